import { formatDiagnostic } from '../../core/diagnostics.ts'
import type { Fleet } from '../../core/model/fleet-model.ts'
import { describeSource } from '../../core/model/source.ts'
import { loadWithParseCache } from '../cached-load.ts'
import type { ValidateOptions } from '../declarations.ts'
import type { CliIo } from '../io.ts'

/**
 * `flotilla validate`: loads everything, renders every target, and prints every problem as
 * `file:line:col: message`. Returns exit code 1 when there is any error. Files parsed by an
 * earlier run are read back from the parse cache in `<repo>/.flotilla/cache/` (validation.md).
 */
export async function validateCommand(options: ValidateOptions, io: CliIo): Promise<number> {
  const { source, result } = await loadWithParseCache(options, io.cwd)
  const errors = result.ok ? [] : result.errors
  const { warnings } = result
  if (options.format === 'json') {
    io.stdout(
      `${JSON.stringify(
        {
          valid: result.ok,
          source: source.ref,
          summary: result.ok ? summarise(result.fleet) : null,
          errors,
          warnings,
        },
        null,
        2,
      )}\n`,
    )
    return result.ok ? 0 : 1
  }
  for (const d of [...errors, ...warnings]) io.stderr(`${formatDiagnostic(d)}\n`)
  const where = describeSource(source.ref)
  if (!result.ok) {
    io.stderr(
      `${where}: invalid — ${count(errors.length, 'error')}, ${count(warnings.length, 'warning')}; nothing was loaded\n`,
    )
    return 1
  }
  const s = summarise(result.fleet)
  const md = options.format === 'markdown'
  io.stdout(
    `${md ? '**' : ''}${where}: valid${md ? '**' : ''} — fleet ${result.fleet.settings.name}: ${count(s.accounts, 'account')}, ${count(s.clusters, 'cluster')}, ${count(s.stacks, 'stack template')} (${count(s.renderedStacks, 'stack')} rendered), ${count(s.components, 'component')} (${count(s.renderedManifests, 'object')} rendered), ${count(s.policies, 'policy', 'policies')}, ${count(s.stages, 'rollout stage')}${warnings.length ? `; ${count(warnings.length, 'warning')}` : ''}\n`,
  )
  return 0
}

/** Counts of what a valid fleet holds, for the summary line and JSON. */
export function summarise(fleet: Fleet) {
  let renderedStacks = 0
  let renderedManifests = 0
  for (const state of fleet.desired.values()) {
    renderedStacks += state.stacks.length
    renderedManifests += state.manifests.length
  }
  return {
    teams: fleet.teams.size,
    accounts: fleet.accounts.size,
    clusters: fleet.clusters.size,
    stacks: fleet.stacks.length,
    components: fleet.components.length,
    policies: fleet.policies.length,
    stages: fleet.rollout.stages.length,
    renderedStacks,
    renderedManifests,
  }
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`
}
