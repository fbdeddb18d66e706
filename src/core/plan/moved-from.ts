import type { Diagnostic, Location } from '../diagnostics.ts'
import type { RenderedStack } from '../model/desired-state.ts'

/**
 * What a head stack's `MovedFrom` does in one account and region:
 * - `moved`: the named stack exists in the base and not in the head, the new stack did not exist
 *   in the base, and at least one resource carries over (same logical id and type): a move;
 * - `already`: the new stack exists in the base and the old one does not — moved before;
 * - `conflict`: both exist in the base: the old stack would be deleted, not moved;
 * - `empty`: the old stack exists, but none of its resources is in the new one: a delete and a
 *   create dressed as a move;
 * - `nothing`: neither exists in the base (a new account): plainly a create.
 */
export type MoveStatus = 'moved' | 'already' | 'conflict' | 'empty' | 'nothing'

/** The address of the stack a head stack moves from, in the same account and region. */
export function previousAddress(stack: RenderedStack): string | undefined {
  if (stack.movedFrom === undefined) return undefined
  return `${stack.address.slice(0, stack.address.lastIndexOf('/'))}/${stack.movedFrom}`
}

/**
 * Decides whether `after` (a head stack with `MovedFrom`) moves the base stack it names. Only a
 * `moved` status makes the differ treat the old stack as the new one's base; in every other case
 * the old stack, if any, is deleted under every rule.
 */
export function moveStatus(
  after: RenderedStack,
  baseByAddress: ReadonlyMap<string, RenderedStack>,
  headAddresses: ReadonlySet<string>,
): MoveStatus {
  const previous = previousAddress(after)
  if (previous === undefined) return 'nothing'
  const old = baseByAddress.get(previous)
  const existed = baseByAddress.has(after.address)
  if (old && existed) return 'conflict'
  if (existed) return 'already'
  if (!old) return 'nothing'
  if (headAddresses.has(previous)) return 'conflict'
  return carriesAResource(old, after) ? 'moved' : 'empty'
}

function carriesAResource(old: RenderedStack, next: RenderedStack): boolean {
  const before = resourceTypes(old)
  for (const [id, type] of resourceTypes(next)) if (before.get(id) === type) return true
  return false
}

function resourceTypes(stack: RenderedStack): Map<string, unknown> {
  const resources = (stack.template as { Resources?: unknown } | null)?.Resources
  const out = new Map<string, unknown>()
  if (resources === null || typeof resources !== 'object') return out
  for (const [id, resource] of Object.entries(resources)) {
    out.set(id, (resource as { Type?: unknown } | null)?.Type)
  }
  return out
}

/** One head stack file's `MovedFrom`, judged over every target of the plan. */
interface MoveTally {
  readonly stackName: string
  readonly movedFrom: string
  readonly at: Location
  readonly statuses: Map<MoveStatus | 'added', string[]>
  /** The base already had this MovedFrom (on any stack): it records an earlier move. */
  readonly history: boolean
}

/**
 * Checks every `MovedFrom` of the head over all targets and returns the validation errors:
 * - one that names a stack existing next to the new one (`conflict`), or that carries none of
 *   the old stack's resources (`empty`), is always an error;
 * - one added in this change that moves nothing anywhere — the named stack is in no account of
 *   the base, or the MovedFrom was put on a stack that already existed — is an error too.
 * A `MovedFrom` the base already had records an earlier move: kept, it is inert (like
 * Terraform's `moved` blocks). Against the observed fleet, which does not record `MovedFrom`,
 * an existing stack may well have moved before, so only conflicts and empty moves are errors.
 */
export function checkMovedFrom(
  base: ReadonlyMap<string, readonly RenderedStack[]>,
  head: ReadonlyMap<string, readonly RenderedStack[]>,
  baseIsObserved = false,
): Diagnostic[] {
  // MovedFroms the base already had (on any stack): they record earlier moves.
  const recorded = new Set<string>()
  for (const stacks of base.values())
    for (const s of stacks) if (s.movedFrom !== undefined) recorded.add(s.movedFrom)
  const tallies = new Map<string, MoveTally>()
  for (const [targetId, stacks] of head) {
    if (!stacks.some((s) => s.movedFrom !== undefined)) continue
    const baseStacks = base.get(targetId) ?? []
    const baseByAddress = new Map(baseStacks.map((s) => [s.address, s]))
    const headAddresses = new Set(stacks.map((s) => s.address))
    for (const stack of stacks) {
      if (stack.movedFrom === undefined) continue
      const key = `${stack.stackName}\0${stack.movedFrom}`
      const tally: MoveTally = tallies.get(key) ?? {
        stackName: stack.stackName,
        movedFrom: stack.movedFrom,
        at: stack.movedFromAt ?? { file: stack.source, line: 1, col: 1 },
        statuses: new Map(),
        history: baseIsObserved || recorded.has(stack.movedFrom),
      }
      const before = baseByAddress.get(stack.address)
      let status: MoveStatus | 'added' = moveStatus(stack, baseByAddress, headAddresses)
      if (status === 'already' && before?.movedFrom !== stack.movedFrom) status = 'added'
      tally.statuses.set(status, [...(tally.statuses.get(status) ?? []), stack.address])
      tallies.set(key, tally)
    }
  }
  const errors: Diagnostic[] = []
  for (const { stackName, movedFrom, at, statuses, history } of tallies.values()) {
    const error = (message: string) => errors.push({ ...at, severity: 'error', rule: 'moved-from', message })
    const conflict = statuses.get('conflict')
    const empty = statuses.get('empty')
    const added = statuses.get('added')
    if (conflict) {
      error(
        `MovedFrom: ${movedFrom} moves into stack "${stackName}", but both exist in ${describe(conflict)}: "${movedFrom}" would be deleted there, not moved. A MovedFrom only moves a stack into a new one; remove it, or delete "${movedFrom}" in a change of its own`,
      )
    }
    if (empty) {
      error(
        `MovedFrom: ${movedFrom} moves none of "${movedFrom}"'s resources into "${stackName}" (no logical id with the same type) in ${describe(empty)}: every resource of "${movedFrom}" would be deleted and new ones created. Keep the logical ids and types of the resources that move, or remove MovedFrom`,
      )
    }
    if (conflict || empty || statuses.has('moved') || history) continue
    if (added) {
      error(
        `MovedFrom: ${movedFrom} was added to stack "${stackName}", which already exists in ${describe(added)}, and there is no stack "${movedFrom}" next to it: it moves nothing. A MovedFrom belongs in the change that renames a stack; remove it`,
      )
    } else {
      error(
        `MovedFrom: ${movedFrom} moves nothing: no account of the base has a stack "${movedFrom}" where "${stackName}" is rendered. Check the name (the stack's previous StackName), or remove MovedFrom`,
      )
    }
  }
  return errors
}

function describe(addresses: readonly string[]): string {
  const shown = addresses.slice(0, 3).join(', ')
  return `${addresses.length === 1 ? '' : `${addresses.length} places: `}${shown}${addresses.length > 3 ? ', …' : ''}`
}
