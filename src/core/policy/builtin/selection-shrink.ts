import { STACK_TYPE } from '../../plan/diff-stacks.ts'
import type { Finding } from '../../plan/plan-model.ts'
import type { DesiredState } from '../../render/desired-state.ts'
import type { PlanRule } from '../rules.ts'

/** Lifecycle states in which losing everything is the point: the explicit way to remove a target. */
const LEAVING = new Set(['decommission-requested', 'decommissioned'])

/**
 * `selection-shrink`: a stack or component reaches fewer targets than before — through a changed
 * `Select`, a changed target field, or a template that now renders nothing — or a target loses
 * all of its stacks. An empty set must never mean "everything goes": each target that loses
 * something needs an approval, and when more than `limits.maxShrinkPercent` of a stack's targets
 * would lose it at once the plan is denied outright. Targets that are being decommissioned are
 * expected to lose everything and are not counted.
 */
export const selectionShrink: PlanRule = {
  id: 'selection-shrink',
  description: 'a stack or component reaches fewer targets than before',
  evaluate(context) {
    const findings: Finding[] = []
    const losses = new Map<
      string,
      { what: string; had: number; lost: { target: string; addresses: string[] }[] }
    >()
    const had = new Map<string, number>()
    // A MovedFrom keeps the old stack only where the differ really moved it, never by its word.
    const movedStacks = new Map<string, Set<string>>()
    for (const target of context.targets) {
      for (const change of target.changes) {
        if (change.type !== STACK_TYPE || change.action !== 'move' || change.movedFrom === undefined) continue
        const names = movedStacks.get(target.id) ?? new Set()
        names.add(change.movedFrom.slice(change.movedFrom.lastIndexOf('/') + 1))
        movedStacks.set(target.id, names)
      }
    }
    for (const [id, before] of context.base.desired) {
      for (const name of unitsOf(before)) had.set(name, (had.get(name) ?? 0) + 1)
      const target = context.head.targets.get(id)
      if (!target || LEAVING.has(target.lifecycle)) continue
      const after = context.head.desired.get(id)
      const kept = unitsOf(after, movedStacks.get(id))
      for (const [name, addresses] of addressesByUnit(before)) {
        if (kept.has(name)) continue
        const entry = losses.get(name) ?? { what: name, had: 0, lost: [] }
        entry.lost.push({ target: id, addresses })
        losses.set(name, entry)
      }
      if (before.target.kind === 'account' && before.stacks.length > 0 && (after?.stacks.length ?? 0) === 0) {
        findings.push({
          rule: this.id,
          effect: 'require-approval',
          message: `account ${id} (${target.name}) would lose all ${before.stacks.length} of its stacks; if the account is being retired, set lifecycle: decommission-requested instead`,
          addresses: before.stacks.map((s) => s.address),
        })
      }
    }
    // A stack that stack-rename already explains (gone here, the same resources under a new name)
    // is one mistake with one fix, MovedFrom; saying it again as a shrink only adds noise.
    const renamed = new Set(
      context.findings
        .filter((f) => f.rule === 'stack-rename')
        .flatMap((f) => f.addresses.map((a) => a.slice(0, a.lastIndexOf('/')))),
    )
    for (const [name, loss] of losses) {
      loss.lost = loss.lost.filter((l) => !l.addresses.every((a) => renamed.has(a)))
      if (loss.lost.length === 0) continue
      const total = had.get(name) ?? loss.lost.length
      const percent = (loss.lost.length / total) * 100
      const addresses = loss.lost.flatMap((l) => l.addresses)
      const ids = loss.lost.map((l) => l.target)
      const shown = `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? `, … ${ids.length - 5} more` : ''}`
      const deny = percent > context.limits.maxShrinkPercent
      findings.push({
        rule: this.id,
        effect: deny ? 'deny' : 'require-approval',
        message: `${describeUnit(name)} would no longer reach ${ids.length} of its ${total} targets (${percent.toFixed(percent < 10 ? 1 : 0)}%: ${shown})${deny ? `, more than limits.maxShrinkPercent (${context.limits.maxShrinkPercent}%) at once — check its selector and the fields it reads; a selector that matches nothing must never mean "delete everywhere"` : '; each target that loses it needs an approval'}`,
        addresses,
      })
    }
    return findings
  },
}

/** Stacks (by StackName, and the names of the stacks moved into them) and components of a target. */
function unitsOf(state: DesiredState | undefined, moved: ReadonlySet<string> = new Set()): Set<string> {
  const out = new Set<string>()
  for (const stack of state?.stacks ?? []) out.add(`stack:${stack.stackName}`)
  for (const name of moved) out.add(`stack:${name}`)
  for (const manifest of state?.manifests ?? []) out.add(`component:${manifest.component}`)
  return out
}

function addressesByUnit(state: DesiredState): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const add = (unit: string, address: string) => out.set(unit, [...(out.get(unit) ?? []), address])
  for (const stack of state.stacks) add(`stack:${stack.stackName}`, stack.address)
  for (const manifest of state.manifests) add(`component:${manifest.component}`, manifest.address)
  return out
}

function describeUnit(unit: string): string {
  const [kind, name] = unit.split(':', 2) as [string, string]
  return kind === 'stack' ? `stack "${name}"` : `component "${name}"`
}
