import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { formatDiagnostic } from '../../core/diagnostics.ts'
import { InputError } from '../../core/errors.ts'
import { LoadCache } from '../../core/load/load-cache.ts'
import type { Fleet } from '../../core/model/fleet-model.ts'
import { fleetState, type PlanOutcome, planFleet, strictestSettings } from '../../core/plan/plan-fleet.ts'
import type { Plan } from '../../core/plan/plan-model.ts'
import { planRevisions } from '../../core/plan/plan-revisions.ts'
import { renderPlanMarkdown } from '../../core/plan/render-markdown.ts'
import { renderPlanText } from '../../core/plan/render-text.ts'
import { type Approval, parseApproval } from '../../core/policy/approvals.ts'
import { parseApprovalsFile } from '../../core/policy/approvals-file.ts'
import { policyRegistry } from '../../core/policy/policy-rules.ts'
import { previewInCloud } from '../../operations/cloud-preview.ts'
import { observeFleet } from '../../operations/observed-fleet.ts'
import { openFleetStore } from '../fleet-store.ts'
import type { CliIo, Format } from '../io.ts'
import { loadValidFleet } from '../repository.ts'
import { targetFilter } from './target-filter.ts'

export interface PlanOptions {
  readonly repo?: string
  /** The embedded store's directory (planning against the observed fleet). */
  readonly data?: string
  /** The revision to compare against. Without it, the observed fleet (with the providers). */
  readonly base?: string
  /** The revision to plan. @default the working tree */
  readonly head?: string
  /** CEL over `target`: plan only the targets it selects. */
  readonly target?: string
  /** Approvals: addresses, or `PATTERN (expected N)`. */
  readonly approve?: readonly string[]
  /** A YAML file of approvals. */
  readonly approvals?: string
  /** The time policies see as `now` (ISO 8601). @default the current time */
  readonly now?: string
  /** Ask the cloud too: a change set per changed stack, merged into the plan (not with `base`). */
  readonly cloudPreview?: boolean
  /** Change sets worked on at once. @default 8 */
  readonly previewConcurrency?: number
  readonly format?: Format
}

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
    rules: policyRegistry(head),
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
    const opened = await openFleetStore(options, io.cwd)
    try {
      await opened.sim.seed(head.targets, head.clusters)
      const observed = await observeFleet(head, opened.registry, opened.store.db, rest.includeTarget)
      const headState = fleetState(head)
      outcome = planFleet({
        base: observed.state,
        head: headState,
        ...strictestSettings(head.settings, head.settings),
        ...rest,
      })
      if (options.cloudPreview && outcome.ok)
        outcome = {
          ok: true,
          plan: await previewInCloud(outcome.plan, headState, observed.state, opened.registry, {
            ...(options.previewConcurrency === undefined ? {} : { concurrency: options.previewConcurrency }),
          }),
        }
    } finally {
      await opened.close()
    }
  } else {
    const base = (await loadValidFleet({ ...repo, rev: options.base }, io.cwd, 'base', cache)).fleet
    const head = (await loadValidFleet({ ...repo, ...headRev }, io.cwd, 'head', cache)).fleet
    const { approvals, now, includeTarget } = await common(head)
    outcome = planRevisions(base, head, {
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

/** The approvals given on the command line and in `--approvals FILE`. */
export async function readApprovals(
  options: { readonly approve?: readonly string[]; readonly approvals?: string },
  cwd: string,
): Promise<Approval[]> {
  const given = (options.approve ?? []).map(parseApproval)
  if (options.approvals !== undefined) {
    const path = resolve(cwd, options.approvals)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      throw new InputError(`cannot read the approvals file ${options.approvals}: ${(error as Error).message}`)
    }
    given.push(...parseApprovalsFile(options.approvals, text))
  }
  return given
}

/** `--now`: an ISO 8601 time with a zone, for freeze windows ("what would happen on Monday"). */
export function parseNow(text: string): Date {
  const date = new Date(text)
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(date.getTime())) {
    throw new InputError(
      `--now "${text}" is not a time; write it in ISO 8601 with a zone, e.g. 2026-11-27T09:00:00Z`,
    )
  }
  return date
}
