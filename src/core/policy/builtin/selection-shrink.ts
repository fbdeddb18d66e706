import type { DesiredState, RenderedManifest } from '../../model/desired-state.ts'
import type { Finding } from '../../model/plan.ts'
import { addressParts, STACK_TYPE } from '../../model/plan.ts'
import type { PlanRule } from '../rules.ts'

/** Lifecycle states in which losing everything is the point: the explicit way to remove a target. */
const LEAVING = new Set(['decommission-requested', 'decommissioned'])

/**
 * `selection-shrink`: a stack reaches fewer targets than before — through a changed `Select`, a
 * changed target field, or a template that now renders nothing — or Kubernetes objects leave
 * targets that a narrower component no longer brings them to, or a target loses all of its
 * stacks. An empty set must never mean "everything goes": each target that loses something needs
 * an approval, and when more than `limits.maxShrinkPercent` of a stack's or component's targets
 * would lose it at once the plan is denied outright. Targets that are being decommissioned are
 * expected to lose everything and are not counted.
 *
 * Components are judged by their objects, not by their folders: a component renamed or split with
 * the same objects in the same clusters loses nothing, while objects that leave a cluster are a
 * shrink when the component no longer brings any of its objects there, or when the same object
 * (namespace, kind and name) is still rendered for other targets — a narrower `select`, an object
 * moved into a narrower component, a template that renders it for fewer clusters. An object that
 * leaves every target while its component stays is an ordinary deletion, as a resource removed
 * from a stack's template is: the plan shows it, and `delete-budget` and `protected-destroy` judge it.
 */
export const selectionShrink: PlanRule = {
  id: 'selection-shrink',
  description: 'a stack or component reaches fewer targets than before',
  evaluate(context) {
    const findings: Finding[] = []
    const losses = new Map<string, Loss>()
    const had = new Map<string, number>()
    const lose = (unit: string, lost: Lost) => {
      const entry = losses.get(unit) ?? { lost: [] }
      entry.lost.push(lost)
      losses.set(unit, entry)
    }
    const stillRendered = lazy(() => renderedObjects(context.head.desired))
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
      for (const [unit, addresses] of stacksByName(before)) {
        if (!kept.has(unit)) lose(unit, { target: id, addresses, whole: true })
      }
      if (before.manifests !== after?.manifests) {
        for (const [component, lost] of objectsLost(before, after, stillRendered))
          lose(component, { target: id, ...lost })
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
      const lost = loss.lost.filter((l) => !l.addresses.every((a) => renamed.has(a)))
      if (lost.length === 0) continue
      const total = had.get(name) ?? lost.length
      const percent = (lost.length / total) * 100
      const addresses = lost.flatMap((l) => l.addresses)
      const ids = lost.map((l) => l.target)
      const shown = `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? `, … ${ids.length - 5} more` : ''}`
      const deny = percent > context.limits.maxShrinkPercent
      const share = `${percent.toFixed(percent < 10 ? 1 : 0)}%: ${shown}`
      const what = lost.every((l) => l.whole)
        ? `${describeUnit(name)} would no longer reach ${ids.length} of its ${total} targets (${share})`
        : `${describeUnit(name)} would no longer bring ${objectList(addresses)} to ${ids.length} of its ${total} targets (${share})`
      findings.push({
        rule: this.id,
        effect: deny ? 'deny' : 'require-approval',
        message: `${what}${deny ? `, more than limits.maxShrinkPercent (${context.limits.maxShrinkPercent}%) at once — check its selector and the fields it reads; a selector that matches nothing must never mean "delete everywhere"` : '; each target that loses it needs an approval'}`,
        addresses,
      })
    }
    return findings
  },
}

/** What one target loses of a stack or component. */
interface Lost {
  readonly target: string
  readonly addresses: readonly string[]
  /** Whether the target loses all of it (else: some of a component's objects). */
  readonly whole: boolean
}

interface Loss {
  lost: Lost[]
}

/**
 * The objects of a cluster's base that count as a shrink, by the component that rendered them in
 * the base: all of a component's objects when none of them stays and the component renders
 * nothing else there, else those whose identity
 * (namespace, kind, name) the head still renders for another target. Objects are matched by
 * address, so whichever component renders them in the head does not matter. Objects that no
 * component rendered (created in the cluster by someone else, seen when planning against the
 * fleet) were never selected, so they cannot shrink.
 */
function objectsLost(
  before: DesiredState,
  after: DesiredState | undefined,
  stillRendered: () => ReadonlySet<string>,
): Map<string, Omit<Lost, 'target'>> {
  const kept = new Set((after?.manifests ?? []).map((m) => m.address))
  const components = new Set((after?.manifests ?? []).map((m) => m.component))
  const byComponent = new Map<string, { all: number; lost: RenderedManifest[] }>()
  for (const manifest of before.manifests) {
    if (manifest.component === '') continue
    const entry = byComponent.get(manifest.component) ?? { all: 0, lost: [] }
    entry.all++
    if (!kept.has(manifest.address)) entry.lost.push(manifest)
    byComponent.set(manifest.component, entry)
  }
  const out = new Map<string, Omit<Lost, 'target'>>()
  for (const [component, { all, lost }] of byComponent) {
    if (lost.length === 0) continue
    // Still rendering objects here under its name (a renamed namespace, new names), the component
    // still reaches the target: only objects that other targets keep are a narrowing then.
    const whole = lost.length === all && !components.has(component)
    const counted = whole ? lost : lost.filter((m) => stillRendered().has(identityOf(m.address)))
    if (counted.length > 0)
      out.set(`component:${component}`, { addresses: counted.map((m) => m.address), whole })
  }
  return out
}

/** Every object identity (`<namespace|_>/<Kind>/<name>`) that some target of the head renders. */
function renderedObjects(desired: ReadonlyMap<string, DesiredState>): Set<string> {
  const out = new Set<string>()
  for (const state of desired.values()) for (const m of state.manifests) out.add(identityOf(m.address))
  return out
}

/** An object's address without its cluster: the same object in every cluster. */
function identityOf(address: string): string {
  const { namespace, kind, name } = addressParts(address)
  return `${namespace}/${kind}/${name}`
}

/** `3 of its objects (monitoring/ConfigMap/a, …)`: the distinct objects, a few of them named. */
function objectList(addresses: readonly string[]): string {
  const objects = [...new Set(addresses.map(identityOf))].sort()
  const shown = `${objects.slice(0, 3).join(', ')}${objects.length > 3 ? `, … ${objects.length - 3} more` : ''}`
  return `${objects.length} of its objects (${shown})`
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined
  return () => {
    value ??= make()
    return value
  }
}

/** Stacks (by StackName, and the names of the stacks moved into them) and components of a target. */
function unitsOf(state: DesiredState | undefined, moved: ReadonlySet<string> = new Set()): Set<string> {
  const out = new Set<string>()
  for (const stack of state?.stacks ?? []) out.add(`stack:${stack.stackName}`)
  for (const name of moved) out.add(`stack:${name}`)
  for (const manifest of state?.manifests ?? []) {
    if (manifest.component !== '') out.add(`component:${manifest.component}`)
  }
  return out
}

/** A target's stack addresses by stack (one per region of a regional stack). */
function stacksByName(state: DesiredState): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const stack of state.stacks) {
    const unit = `stack:${stack.stackName}`
    out.set(unit, [...(out.get(unit) ?? []), stack.address])
  }
  return out
}

function describeUnit(unit: string): string {
  const [kind, name] = unit.split(':', 2) as [string, string]
  return kind === 'stack' ? `stack "${name}"` : `component "${name}"`
}
