/**
 * Merging what the cloud says into a plan (`flotilla plan --cloud-preview`): each planned
 * resource change gets CloudFormation's own view of it, and every disagreement between
 * Flotilla's prediction and the cloud's becomes a `cloud-preview` finding.
 *
 * Fail closed: where the cloud would destroy (delete, replace, maybe replace) something the plan
 * shows kept, the finding denies — a rollout's apply refuses such a change set anyway, and the
 * reviewer must learn it now, not halfway through a stage. Where the cloud is gentler than the
 * prediction, or the two merely differ, the finding warns.
 */

import type { Change, CloudPreviewSummary, CloudView, Finding, FindingEffect, Plan } from '../model/plan.ts'
import type { PreviewedChange, StackPreview } from '../provider/port.ts'
import { STACK_TYPE } from './diff-stacks.ts'
import { verdictOf } from './plan-fleet.ts'

/** The rule id of the findings of a cloud preview. */
export const CLOUD_PREVIEW_RULE = 'cloud-preview'

/** What asking the cloud gave. */
export interface CloudPreviewResult {
  /** The previews of each target's stacks, by target id. */
  readonly previews: ReadonlyMap<string, readonly StackPreview[]>
  /** Stacks whose preview could not be made (a provider error): each denies. */
  readonly failures: readonly { readonly address: string; readonly message: string }[]
  /** What was not previewed, and why. */
  readonly skipped: readonly { readonly reason: string; readonly count: number }[]
}

/** A disagreement of one kind, gathered across targets into one finding. */
interface Gathered {
  readonly effect: FindingEffect
  readonly message: (where: string) => string
  readonly addresses: string[]
}

/** The plan with the cloud's views, its findings and the verdict they lead to. Pure. */
export function mergeCloudPreview(plan: Plan, result: CloudPreviewResult): Plan {
  const gathered = new Map<string, Gathered>()
  const gather = (key: string, effect: FindingEffect, address: string, message: Gathered['message']) => {
    const known = gathered.get(`${effect}\u0000${key}`)
    if (known) known.addresses.push(address)
    else gathered.set(`${effect}\u0000${key}`, { effect, message, addresses: [address] })
  }
  let agreed = 0
  let disagreements = 0
  let stacks = 0
  const accounts = new Set<string>()

  const targets = plan.targets.map((targetPlan) => {
    const previews = result.previews.get(targetPlan.id)
    if (!previews) return targetPlan
    const previewOf = new Map(previews.map((p) => [p.address, p]))
    const cloudOf = new Map<string, PreviewedChange>()
    for (const preview of previews) for (const change of preview.changes) cloudOf.set(change.address, change)
    stacks += previews.length
    accounts.add(targetPlan.id)

    const changes = targetPlan.changes.map((change): Change => {
      const preview = previewOf.get(stackAddressOf(change.address))
      if (change.type === STACK_TYPE || !preview || preview.outcome === 'refused') return change
      const found = cloudOf.get(change.address)
      const cloud: CloudView = found ? viewOf(found) : { action: 'None' }
      const effect = disagreement(change, cloud)
      if (effect === undefined) agreed++
      else {
        disagreements++
        const { stackName, logicalId } = partsOf(change.address)
        const what = `${describeCloud(cloud)} ${change.type} ${logicalId} of stack ${stackName}`
        const shown = describePlanned(change)
        gather(`${what}\u0000${shown}`, effect, change.address, (where) =>
          effect === 'deny'
            ? `CloudFormation would ${what}, which the plan shows as ${shown}${where}: a rollout would refuse this change set. ` +
              'Find out why (a property the type schema takes for mutable, a value only the cloud resolves), fix the template, and plan again.'
            : `CloudFormation would ${what}, which the plan shows as ${shown}${where}. The rollout holds to the plan's approvals; check that the change is what you meant.`,
        )
      }
      return { ...change, cloud }
    })

    // What the cloud would change and the plan does not show at all.
    const planned = new Set(targetPlan.changes.map((c) => c.address))
    for (const preview of previews) {
      for (const found of preview.changes) {
        if (planned.has(found.address)) continue
        disagreements++
        const cloud = viewOf(found)
        const effect: FindingEffect = destroys(cloud) ? 'deny' : 'warn'
        const { stackName, logicalId } = partsOf(found.address)
        const what = `${describeCloud(cloud)} ${found.type} ${logicalId} of stack ${stackName}`
        gather(what, effect, found.address, (where) =>
          effect === 'deny'
            ? `CloudFormation would ${what}, which the plan does not change${where}: a rollout would refuse this change set. The stack in the cloud may differ from what Flotilla observed; plan again, and find out what changed it.`
            : `CloudFormation would ${what}, which the plan does not change${where}.`,
        )
      }
      if (preview.outcome === 'refused') {
        disagreements++
        const { stackName } = partsOf(preview.address)
        const reason = preview.reason ?? 'no reason given'
        gather(
          `refused\u0000${stackName}\u0000${reason}`,
          'deny',
          preview.address,
          (where) =>
            `CloudFormation refused the change set of stack ${stackName}${where}: ${reason}. A rollout would fail there; fix the template and plan again.`,
        )
      }
    }
    return { ...targetPlan, changes }
  })

  for (const failure of result.failures) {
    disagreements++
    // The same failure in many accounts is one finding: the message without the account's address.
    const { stackName } = partsOf(failure.address)
    const said = failure.message.replaceAll(failure.address, `stack ${stackName}`)
    gather(
      `failed\u0000${stackName}\u0000${said}`,
      'deny',
      failure.address,
      (where) =>
        `the cloud could not preview stack ${stackName}${where}: ${said}. Without the cloud's view the change is not known to be safe, and a rollout would fail where the cloud refuses it; fix the cause and plan again.`,
    )
  }

  const findings: Finding[] = [...plan.findings]
  for (const { effect, message, addresses } of gathered.values()) {
    const sorted = [...addresses].sort()
    const where = sorted.length === 1 ? '' : ` (in ${sorted.length} accounts)`
    findings.push({ rule: CLOUD_PREVIEW_RULE, effect, message: message(where), addresses: sorted })
  }
  const cloudPreview: CloudPreviewSummary = {
    stacks,
    accounts: accounts.size,
    agreed,
    disagreements,
    skipped: result.skipped,
  }
  return {
    ...plan,
    targets,
    findings,
    verdict: verdictOf(plan.targets.length > 0, findings, plan.approvals?.unmet ?? plan.approvalsRequired),
    cloudPreview,
  }
}

/**
 * How the cloud's view and the plan's change disagree: `deny` when the cloud would destroy what
 * the plan keeps, `warn` for any other difference, undefined when they agree.
 */
function disagreement(change: Change, cloud: CloudView): FindingEffect | undefined {
  const plannedDestroy =
    change.action === 'delete' || change.action === 'replace' || change.mayReplace === true
  if (destroys(cloud) && !plannedDestroy) return 'deny'
  return expectedFor(change) === key(cloud) ? undefined : 'warn'
}

/** What a change set shows for the planned change when the two agree. */
function expectedFor(change: Change): string {
  if (change.action === 'create') return 'Add'
  if (change.action === 'delete') return 'Remove'
  if (change.action === 'replace') return 'Modify/True'
  if (change.action === 'update') return change.mayReplace ? 'Modify/Conditional' : 'Modify/False'
  return 'None'
}

function key(cloud: CloudView): string {
  return cloud.action === 'Modify' ? `Modify/${cloud.replacement ?? 'False'}` : cloud.action
}

/** Whether the cloud would delete or (maybe) replace the resource; `Dynamic` is decided only as it runs. */
function destroys(cloud: CloudView): boolean {
  if (cloud.action === 'Remove' || cloud.action === 'Dynamic') return true
  return cloud.action === 'Modify' && cloud.replacement !== undefined && cloud.replacement !== 'False'
}

function viewOf(change: PreviewedChange): CloudView {
  return {
    action: change.action,
    ...(change.replacement === undefined ? {} : { replacement: change.replacement }),
    ...(change.policyAction === undefined ? {} : { policyAction: change.policyAction }),
  }
}

/** The cloud's view in words: `replace`, `delete (Retain)`, `leave unchanged`, … */
export function describeCloud(cloud: CloudView): string {
  const policy = 'policyAction' in cloud && cloud.policyAction ? ` (${cloud.policyAction})` : ''
  switch (cloud.action) {
    case 'Add':
      return 'create'
    case 'Remove':
      return `delete${policy}`
    case 'Import':
      return 'import'
    case 'Dynamic':
      return 'decide only while it runs what to do with'
    case 'None':
      return 'leave unchanged'
    case 'Modify':
      if (cloud.replacement === 'True') return `replace${policy}`
      if (cloud.replacement === 'Conditional') return `maybe replace${policy}`
      return 'update in place'
  }
}

function describePlanned(change: Change): string {
  if (change.action === 'update')
    return change.mayReplace ? 'an update that may replace it' : 'an update in place'
  if (change.action === 'no-op') return 'unchanged'
  return `a ${change.action === 'create' ? 'creation' : change.action === 'delete' ? 'deletion' : change.action === 'replace' ? 'replacement' : 'move'}`
}

/**
 * The cloud preview in one line: `Cloud preview: 12 stacks in 4 accounts; 40 changes as
 * predicted, 1 disagreement; not previewed: 3 accounts on provider sim, which has no cloud to ask.`
 */
export function cloudPreviewLine(summary: CloudPreviewSummary): string {
  const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`
  const skipped = summary.skipped.map((s) => `${s.count} ${s.reason}`)
  return (
    `Cloud preview: ${n(summary.stacks, 'stack')} in ${n(summary.accounts, 'account')}; ` +
    `${n(summary.agreed, 'change')} as predicted, ${n(summary.disagreements, 'disagreement')}` +
    (skipped.length > 0 ? `; not previewed: ${skipped.join(', ')}.` : '.')
  )
}

/** `<account>/<region>/<StackName>` of a resource address. */
export function stackAddressOf(address: string): string {
  return address.split('/').slice(0, 3).join('/')
}

function partsOf(address: string): { stackName: string; logicalId: string } {
  const parts = address.split('/')
  return { stackName: parts[2] ?? address, logicalId: parts.slice(3).join('/') }
}
