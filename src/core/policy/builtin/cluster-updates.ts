import type { Finding } from '../../model/plan.ts'
import { CONTROL_PLANE_TYPE, NODE_POOL_TYPE } from '../../model/plan.ts'
import { allChanges, type PlanContext } from '../plan-context.ts'
import type { PlanRule } from '../rules.ts'

/** `1.31` → [1, 31]; anything else → undefined. */
function minorOf(version: unknown): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)$/.exec(String(version))
  return match ? [Number(match[1]), Number(match[2])] : undefined
}

/**
 * `kubernetes-version`: a control plane goes up one minor version at a time, never down —
 * Kubernetes cannot downgrade a control plane, and managed services (EKS, GKE, AKS) upgrade one
 * minor version per step. Deny both, per distinct change, listing the clusters.
 */
export const kubernetesVersion: PlanRule = {
  id: 'kubernetes-version',
  description: 'a Kubernetes version goes down, or up by more than one minor version',
  evaluate(context: PlanContext) {
    const problems = new Map<string, { message: string; addresses: string[] }>()
    for (const { change } of allChanges(context)) {
      if (change.type !== CONTROL_PLANE_TYPE) continue
      const property = change.properties.find((p) => p.path === 'kubernetesVersion')
      const before = minorOf(property?.before)
      const after = minorOf(property?.after)
      if (!before || !after) continue
      const from = `${before[0]}.${before[1]}`
      const to = `${after[0]}.${after[1]}`
      let message: string | undefined
      if (after[0] !== before[0] || after[1] < before[1])
        message = `kubernetesVersion goes from ${from} to ${to}: a control plane cannot be downgraded or change major version; keep ${from}`
      else if (after[1] > before[1] + 1)
        message = `kubernetesVersion goes from ${from} to ${to}, skipping ${after[1] - before[1] - 1} minor ${after[1] - before[1] - 1 === 1 ? 'version' : 'versions'}: a control plane upgrades one minor version at a time; go to ${before[0]}.${before[1] + 1} first`
      if (!message) continue
      const entry = problems.get(message) ?? { message, addresses: [] }
      entry.addresses.push(change.address)
      problems.set(message, entry)
    }
    return [...problems.values()].map(
      (p): Finding => ({
        rule: this.id,
        effect: 'deny',
        message: `${p.message} (${p.addresses.length} ${p.addresses.length === 1 ? 'cluster' : 'clusters'})`,
        addresses: p.addresses,
      }),
    )
  },
}

/**
 * `rotation-budget`: a pool running StatefulSet pods that already used its monthly rotation
 * budget (`nodeRotation.statefulPools.rotationsPerMonth`) is skipped by the rollout. Warn, so the
 * plan says so before the rollout does: the pool stays outdated until next month.
 */
export const rotationBudget: PlanRule = {
  id: 'rotation-budget',
  description: 'a stateful node pool is over its monthly rotation budget',
  evaluate(context: PlanContext) {
    const addresses: string[] = []
    for (const { change } of allChanges(context))
      if (change.type === NODE_POOL_TYPE && change.rotation?.overBudget) addresses.push(change.address)
    if (addresses.length === 0) return []
    return [
      {
        rule: this.id,
        effect: 'warn',
        message: `${addresses.length} stateful node ${addresses.length === 1 ? 'pool has' : 'pools have'} used ${addresses.length === 1 ? 'its' : 'their'} rotation budget for this month (fleet.yaml nodeRotation.statefulPools.rotationsPerMonth): the rollout skips ${addresses.length === 1 ? 'it' : 'them'} and reports ${addresses.length === 1 ? 'it' : 'them'}; ${addresses.length === 1 ? 'it is' : 'they are'} rotated next month, or raise the budget`,
        addresses,
      },
    ]
  },
}
