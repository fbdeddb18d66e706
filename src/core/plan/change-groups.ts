/**
 * The changes of a plan as people review them: the same change across targets grouped once
 * ("delete eu-central-1/dns/Zone in 287 accounts"), in review order — destructive and protected
 * first. Shared by the markdown rendering and the portal's plan page, so both show one plan alike.
 */
import type { Change, TargetPlan } from '../model/plan.ts'
import { compareStrings, relativeAddress, stableJson } from './render-common.ts'

/** One change, made identically in one or more targets. */
export interface ChangeGroup {
  /** The change as made in the first of the targets. */
  readonly change: Change
  /** Its address without the target id, the same in every target of the group. */
  readonly relative: string
  readonly targets: TargetPlan[]
  readonly rank: number
  /** The property values are not the same in every target (a domain per account, say): one is shown. */
  valuesDiffer: boolean
}

/**
 * Groups the same change across targets: same action, type, address without the target id,
 * protection, origin of a move, and the same properties changing in the same way. Values may
 * differ per target (each account's zone has its own domain): deleting 287 zones is one change
 * to review, shown with one target's values. Destructive and protected groups first, then
 * moves, creates, updates; within each, the widest first.
 */
export function groupIdenticalChanges(targets: readonly TargetPlan[]): ChangeGroup[] {
  const groups = new Map<string, ChangeGroup>()
  for (const target of targets) {
    for (const change of target.changes) {
      // A no-op is context for the text rendering (inside a moved stack), not a change to review.
      if (change.action === 'no-op') continue
      const relative = relativeAddress(target.id, change.address)
      const key = stableJson([
        change.action,
        change.type,
        relative,
        change.protected,
        change.movedFrom === undefined ? null : relativeAddress(target.id, change.movedFrom),
        change.mayReplace ?? false,
        change.properties.map((p) => [p.path, p.before === null, p.after === null, p.forcesReplacement]),
        change.cloud ?? null,
        change.rotation ? { ...change.rotation, nodes: null } : null,
      ])
      const group = groups.get(key)
      if (group) {
        group.targets.push(target)
        if (!group.valuesDiffer && propertyValues(group.change) !== propertyValues(change))
          group.valuesDiffer = true
      } else {
        groups.set(key, { change, relative, targets: [target], rank: rankOf(change), valuesDiffer: false })
      }
    }
  }
  return [...groups.values()].sort(
    (a, b) =>
      a.rank - b.rank ||
      b.targets.length - a.targets.length ||
      compareStrings(a.relative, b.relative) ||
      compareStrings(a.change.type, b.change.type) ||
      compareStrings(a.change.action, b.change.action) ||
      compareStrings(a.targets[0]!.id, b.targets[0]!.id),
  )
}

function propertyValues(change: Change): string {
  return stableJson(change.properties.map((p) => [p.before, p.after]))
}

/** Review order: protected destruction, delete, replace, may replace, other protected, move, create, update. */
export function rankOf(change: Change): number {
  const destroys = change.action === 'delete' || change.action === 'replace' || change.mayReplace === true
  if (change.protected && destroys) return 0
  if (change.action === 'delete') return 1
  if (change.action === 'replace') return 2
  if (change.mayReplace) return 3
  if (change.protected) return 4
  return change.action === 'move' ? 5 : change.action === 'create' ? 6 : 7
}

/** The sections of a reviewed plan, in review order, and the last rank each holds. */
export const SECTIONS = [
  { title: 'Destructive and protected', lastRank: 4 },
  { title: 'Moved', lastRank: 5 },
  { title: 'Created', lastRank: 6 },
  { title: 'Updated', lastRank: 7 },
] as const

/** The section a rank of {@link rankOf} belongs to. */
export function sectionOf(rank: number): string {
  return SECTIONS.find((s) => rank <= s.lastRank)!.title
}
