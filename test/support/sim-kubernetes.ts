import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { Target } from '../../src/core/model/fleet-model.ts'
import { kubernetesConfigFromEnvironment } from '../../src/providers/kubernetes/kubernetes-config.ts'
import { KubernetesProvider } from '../../src/providers/kubernetes/kubernetes-provider.ts'
import type { KubernetesServer } from '../../src/providers/sim/kubernetes/kubernetes-server.ts'

/**
 * A kubeconfig with one context per cluster, named after the cluster's id, each at the
 * cluster's base URL on the simulated Kubernetes API: how `flotilla` finds a cluster first.
 */
export function simKubeconfig(server: KubernetesServer, clusters: readonly Target[]): string {
  const first = clusters[0]
  if (!first) throw new Error('a kubeconfig needs a cluster')
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map((c) => ({
      name: c.id,
      // Plain http on loopback: the client takes it only without TLS verification.
      cluster: { server: server.clusterUrl(c.id), 'insecure-skip-tls-verify': true },
    })),
    users: [{ name: 'flotilla', user: { token: 'any' } }],
    contexts: clusters.map((c) => ({ name: c.id, context: { cluster: c.id, user: 'flotilla' } })),
    'current-context': first.id,
  })
}

/**
 * The kubernetes provider pointed at the simulated Kubernetes API: through `dir/kubeconfig`
 * ({@link simKubeconfig} of `clusters`, written here), read as `FLOTILLA_KUBECONFIG` — not from
 * this process's environment.
 */
export function simKubernetesProvider(
  server: KubernetesServer,
  clusters: readonly Target[],
  dir: string,
): KubernetesProvider {
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, simKubeconfig(server, clusters))
  return new KubernetesProvider(kubernetesConfigFromEnvironment({ FLOTILLA_KUBECONFIG: kubeconfig }))
}
