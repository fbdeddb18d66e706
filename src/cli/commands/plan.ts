import { planBetweenRevisions } from '../../app/plan.ts'
import { formatDiagnostic } from '../../core/diagnostics.ts'
import { InputError } from '../../core/errors.ts'
import { LoadCache } from '../../core/load/load-cache.ts'
import type { Fleet } from '../../core/model/fleet-model.ts'
import type { Plan } from '../../core/model/plan.ts'
import type { PlanOutcome } from '../../core/plan/plan-fleet.ts'
import { renderPlanMarkdown } from '../../core/plan/render-markdown.ts'
import { renderPlanText } from '../../core/plan/render-text.ts'
import { withApplication } from '../application.ts'
import type { PlanOptions } from '../declarations.ts'
import { parseNow, readApprovals } from '../inputs.ts'
import type { CliIo } from '../io.ts'
import { loadValidFleet } from '../repository.ts'
import { cliTrust } from '../trust.ts'
import { targetFilter } from './target-filter.ts'

/** Exit codes of `flotilla plan` (cli.md): 0 no changes, 2 changes all allowed, 3 denied or needing approvals. */
export function planExitCode(plan: Plan): number {
  if (plan.verdict === 'no-changes') return 0
  return plan.verdict === 'allowed' ? 2 : 3
}

/**
 * `flotilla plan [--base REV] [--head REV]`: previews every change from base to head across the
 * fleet, with the built-in safety rules' findings and the verdict. With `--base` it is offline;
 * without, the base is the fleet as the providers observe it, and drift is a finding.
 */
export async function planCommand(options: PlanOptions, io: CliIo): Promise<number> {
  try {
    return await planAndPrint(options, io)
  } catch (error) {
    // A pipeline reading JSON gets the `invalid` verdict of plan.md as a document, not only on stderr.
    if (options.format !== 'json' || !(error instanceof InputError) || error.diagnostics.length === 0)
      throw error
    io.stdout(`${JSON.stringify({ version: 1, verdict: 'invalid', errors: error.diagnostics }, null, 2)}\n`)
    for (const d of error.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`)
    io.stderr(`${error.message.split('\n')[0]}\n`)
    return 1
  }
}

async function planAndPrint(options: PlanOptions, io: CliIo): Promise<number> {
  // One cache for both sides: files, templates and renderings the change did not touch are shared.
  const cache = new LoadCache()
  const repo = options.repo ? { repo: options.repo } : {}
  const headRev = options.head ? { rev: options.head } : {}
  const common = async (head: Fleet) => ({
    approvals: await readApprovals(options, io.cwd),
    ...(options.now === undefined ? {} : { now: parseNow(options.now) }),
    ...(options.target ? { includeTarget: targetFilter(options.target, head) } : {}),
  })
  if (options.cloudPreview && options.base !== undefined)
    throw new InputError(
      '--cloud-preview asks the cloud about the change from what it has now: plan against the observed fleet (without --base)',
    )
  let outcome: PlanOutcome
  if (options.base === undefined) {
    const head = (await loadValidFleet({ ...repo, ...headRev }, io.cwd, 'head', cache)).fleet
    const rest = await common(head)
    const trust = await cliTrust(options.repo, io.cwd, head, [head], cache)
    if (trust.note) io.stderr(trust.note)
    outcome = await withApplication(options, io, (app) =>
      app.planObserved(head, {
        ...rest,
        ...(trust.trusted ? { trusted: trust.trusted } : {}),
        ...(options.cloudPreview
          ? {
              cloudPreview:
                options.previewConcurrency === undefined ? {} : { concurrency: options.previewConcurrency },
            }
          : {}),
      }),
    )
  } else {
    const base = (await loadValidFleet({ ...repo, rev: options.base }, io.cwd, 'base', cache)).fleet
    const head = (await loadValidFleet({ ...repo, ...headRev }, io.cwd, 'head', cache)).fleet
    const { approvals, now, includeTarget } = await common(head)
    const trust = await cliTrust(options.repo, io.cwd, base, [base, head], cache)
    if (trust.note) io.stderr(trust.note)
    outcome = planBetweenRevisions(base, head, {
      ...(trust.trusted ? { trusted: trust.trusted } : {}),
      approvals,
      ...(now === undefined ? {} : { now }),
      ...(includeTarget === undefined ? {} : { includeTarget }),
    })
  }
  if (!outcome.ok) {
    throw new InputError(
      `the change is invalid (${outcome.errors.length} ${outcome.errors.length === 1 ? 'error' : 'errors'})`,
      outcome.errors,
    )
  }
  const { plan } = outcome
  if (options.format === 'json') io.stdout(`${JSON.stringify(plan, null, 2)}\n`)
  else if (options.format === 'markdown') io.stdout(renderPlanMarkdown(plan))
  else io.stdout(renderPlanText(plan, { color: io.isTTY }))
  return planExitCode(plan)
}
