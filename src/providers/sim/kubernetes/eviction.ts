import type { StoredObject } from './cluster-objects.ts'
import { budgetOf, type ClusterView } from './cluster-view.ts'

type Json = Record<string, unknown>

/** Why the eviction subresource refuses to evict a pod. */
export interface EvictionRefusal {
  /** `budget`: its PodDisruptionBudget would be violated (429); `several-budgets`: more than one covers it (500). */
  readonly code: 'budget' | 'several-budgets'
  readonly message: string
}

/**
 * Whether evicting `pod` now is refused, as the API server's eviction subresource decides: a
 * ready pod may go while its budget allows a disruption; an unready one while the budget holds
 * (`unhealthyPodEvictionPolicy: IfHealthyBudget`); a pod under two budgets never. Shared by the
 * simulated API's `pods/<name>/eviction` and the simulated fleet's own node rotations, so both
 * honour budgets the same way.
 */
export function evictionRefusal(view: ClusterView, pod: StoredObject): EvictionRefusal | undefined {
  const budgets = view
    .ofKind('PodDisruptionBudget')
    .filter((pdb) => pdb.namespace === pod.namespace)
    .filter((pdb) =>
      view
        .selectPods(pdb.namespace, (pdb.object.spec as Json | undefined)?.selector)
        .some((p) => p.uid === pod.uid),
    )
  if (budgets.length > 1)
    return {
      code: 'several-budgets',
      message: `This pod has more than one PodDisruptionBudget, which the eviction subresource does not support: ${budgets.map((b) => b.name).join(', ')}`,
    }
  const pdb = budgets[0]
  if (!pdb) return undefined
  const budget = budgetOf(view, pdb)
  const allowed = view.isReady(pod)
    ? budget.disruptionsAllowed >= 1
    : budget.currentHealthy >= budget.desiredHealthy
  if (allowed) return undefined
  return {
    code: 'budget',
    message: `The disruption budget ${pdb.name} needs ${budget.desiredHealthy} healthy pods and has ${budget.currentHealthy} currently`,
  }
}
