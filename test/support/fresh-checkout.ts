/** A fresh checkout of the project and a new user's shell environment, for tests that run it as a user would. */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The environment of a new user's shell: none of the test run's npm or Flotilla settings. */
export function userEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env))
    if (!/^(npm_|FLOTILLA_|VITEST|NODE_OPTIONS$|PORT$)/.test(key)) env[key] = value
  return { ...env, ...extra }
}

/**
 * A checkout of the working tree in a new temporary folder (`<tmp>/flotilla`; remove its parent):
 * the files git tracks or would add, nothing it ignores — no `dist/`, no `example-fleet/`, no store.
 */
export function freshCheckout(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'flotilla-checkout-')), 'flotilla')
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
  })
    .toString()
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)))
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    copyFileSync(join(ROOT, file), join(dir, file))
  }
  // `npm install` would fetch the same packages: the suite's are used.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return dir
}
