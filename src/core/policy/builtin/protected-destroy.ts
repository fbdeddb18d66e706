import { allChanges } from '../plan-context.ts'
import type { PlanRule } from '../rules.ts'

/**
 * `protected-destroy`: deleting or replacing a protected resource (a DNS zone, a certificate, a
 * VPC, a bucket, a PVC …) needs an approval of its exact address. An update that may replace the
 * resource counts too: failing closed is cheaper than a lost zone.
 */
export const protectedDestroy: PlanRule = {
  id: 'protected-destroy',
  description: 'a protected resource is deleted or replaced',
  evaluate(context) {
    const addresses: string[] = []
    const types = new Map<string, number>()
    for (const { change } of allChanges(context)) {
      const destroys = change.action === 'delete' || change.action === 'replace' || change.mayReplace === true
      if (!change.protected || !destroys) continue
      addresses.push(change.address)
      types.set(change.type, (types.get(change.type) ?? 0) + 1)
    }
    if (addresses.length === 0) return []
    const what = [...types].map(([type, n]) => `${n} × ${type}`).join(', ')
    return [
      {
        rule: this.id,
        effect: 'require-approval',
        message: `${addresses.length} protected ${addresses.length === 1 ? 'resource' : 'resources'} would be deleted or replaced (${what}); each needs an approval of its exact address — or change the plan so they stay`,
        addresses,
      },
    ]
  },
}
