import type { PlanRule } from '../rules.ts'

/**
 * `drift`: in a plan against the observed fleet, a stack or object whose observed state differs
 * from what Flotilla last applied was changed outside Flotilla (a console edit, `kubectl`). The
 * plan would overwrite it; the finding says so, once per target, so the change is not lost
 * unnoticed. A warning by default; a policy named `drift` can make it require an approval or deny.
 */
export const drift: PlanRule = {
  id: 'drift',
  description: 'observed state differs from what Flotilla last applied',
  evaluate(context) {
    const records = context.base.drift
    if (!records) return []
    return [...records]
      .filter(([id, record]) => record.addresses.length > 0 && context.head.targets.has(id))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, record]) => {
        const target = context.head.targets.get(id)!
        const count = record.addresses.length
        return {
          rule: this.id,
          effect: 'warn' as const,
          message: `${target.kind} ${target.name} (${id}) drifted: ${count} ${count === 1 ? 'stack or object differs' : 'stacks or objects differ'} from what Flotilla last applied (revision ${record.revision.slice(0, 12)}), changed outside Flotilla; applying this plan overwrites ${count === 1 ? 'it' : 'them'} — put the change into the repository if it should stay`,
          addresses: record.addresses,
        }
      })
  },
}
