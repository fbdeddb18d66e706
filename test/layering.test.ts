import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { checkLayering, formatViolations } from './support/layering.ts'

// The layering of docs/architecture.md, as rules over the import graph (.dependency-cruiser.cjs).
describe('layering', () => {
  test('src/ breaks none of the rules of .dependency-cruiser.cjs', async () => {
    const report = await checkLayering()
    // A configuration that matched nothing would pass trivially.
    expect(report.modules.filter((m) => m.startsWith('src/core/')).length).toBeGreaterThan(50)
    expect(report.modules.some((m) => m.endsWith('.test.ts'))).toBe(false)
    if (report.errors.length > 0) {
      expect.fail(
        `${report.errors.length} forbidden import(s) (rule — why, then from → to; docs/architecture.md):\n${formatViolations(report.errors, report.comments)}`,
      )
    }
  })

  test('the rules catch what they are for: I/O, imports out of core, upward and type-only imports, cycles', async () => {
    // A tiny repository of its own, cruised with the same rules.
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-layering-'))
    const files: Record<string, string> = {
      'src/core/diagnostics.ts': 'export const d = 1\n',
      'src/core/yaml/parse.ts': "import { readFileSync } from 'node:fs'\nexport const p = readFileSync\n",
      'src/core/model/plan.ts':
        "import type { Judge } from '../policy/rules.ts'\nimport { g } from '../../source/git.ts'\nexport type T = Judge\nexport const m = g\n",
      'src/core/policy/rules.ts': "import { m } from '../model/plan.ts'\nexport type Judge = typeof m\n",
      'src/source/git.ts': 'export const g = 1\n',
      'src/providers/aws/aws-provider.ts': "import { s } from '../sim/sim-provider.ts'\nexport const a = s\n",
      'src/providers/sim/sim-provider.ts': 'export const s = 1\n',
      // The same mistakes written other ways: a dynamic import, a re-export, the promises flavour
      // of a module with and without `node:`, a timer module, and a face reaching the simulator.
      'src/core/render/lazy.ts': "export const run = () => import('node:child_process')\n",
      'src/core/load/reexport.ts': "export { g } from '../../source/git.ts'\n",
      'src/core/validate/files.ts': "import { readFile } from 'fs/promises'\nexport const f = readFile\n",
      'src/core/expr/wait.ts':
        "import { setTimeout } from 'node:timers/promises'\nexport const w = setTimeout\n",
      'src/server/sim-api.ts':
        "import type { s } from '../providers/sim/sim-provider.ts'\nexport type S = typeof s\n",
    }
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    const report = await checkLayering(dir)
    const found = report.errors.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)
    expect(found).toEqual(
      expect.arrayContaining([
        'core-no-io-builtins: src/core/yaml/parse.ts → fs',
        'core-imports-only-core: src/core/model/plan.ts → src/source/git.ts',
        'core-layers:model: src/core/model/plan.ts → src/core/policy/rules.ts',
        'core-no-module-cycles: src/core/model/plan.ts → src/core/policy/rules.ts',
        'core-no-folder-cycles: src/core/model → src/core/policy',
        'providers-not-each-other: src/providers/aws/aws-provider.ts → src/providers/sim/sim-provider.ts',
        'core-no-io-builtins: src/core/render/lazy.ts → child_process',
        'core-imports-only-core: src/core/load/reexport.ts → src/source/git.ts',
        'core-no-io-builtins: src/core/validate/files.ts → fs/promises',
        'core-no-io-builtins: src/core/expr/wait.ts → timers/promises',
        'sim-behind-the-port: src/server/sim-api.ts → src/providers/sim/sim-provider.ts',
      ]),
    )
    expect(formatViolations(report.errors, report.comments)).toContain(
      'core-imports-only-core — core/ imports nothing of Flotilla outside core/',
    )
  })
})
