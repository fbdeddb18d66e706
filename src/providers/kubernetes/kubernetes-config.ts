/**
 * How the `kubernetes` provider reaches each cluster, from the environment, as kubectl is
 * configured: a kubeconfig file whose contexts are named after the clusters, and, for clusters
 * without a context, the inventory's `apiServer` URL with a bearer token.
 */
import { existsSync, readFileSync } from 'node:fs'
import { delimiter } from 'node:path'
import { parse } from 'yaml'
import { InputError } from '../../core/errors.ts'

/** The provider's settings. */
export interface KubernetesConfig {
  /** The kubeconfig file, when one is set (`FLOTILLA_KUBECONFIG`, else the first of `KUBECONFIG`). */
  readonly kubeconfig?: string
  /** The names of the kubeconfig's contexts, read when the settings were: a cluster's is its id or alias. */
  readonly contexts: readonly string[]
  /** The bearer token sent to an inventory `apiServer` (`FLOTILLA_KUBERNETES_TOKEN`). */
  readonly token?: string
}

/**
 * Reads the settings from the environment: `FLOTILLA_KUBECONFIG` (else the first file of
 * `KUBECONFIG`) and `FLOTILLA_KUBERNETES_TOKEN`. A kubeconfig that is set must exist and be a
 * kubeconfig: a typo is an error now, not at the first cluster.
 */
export function kubernetesConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): KubernetesConfig {
  const variable = env.FLOTILLA_KUBECONFIG ? 'FLOTILLA_KUBECONFIG' : 'KUBECONFIG'
  const kubeconfig = (env.FLOTILLA_KUBECONFIG ?? env.KUBECONFIG ?? '').split(delimiter)[0] || undefined
  const token = env.FLOTILLA_KUBERNETES_TOKEN || undefined
  const none = { contexts: [], ...(token ? { token } : {}) }
  if (!kubeconfig) return none
  if (!existsSync(kubeconfig)) {
    // kubectl ignores a KUBECONFIG file that is not there; one set for Flotilla must be.
    if (variable === 'KUBECONFIG') return none
    throw new InputError(`${variable} names ${kubeconfig}, which does not exist`)
  }
  let contexts: string[]
  try {
    const document = parse(readFileSync(kubeconfig, 'utf8')) as { contexts?: { name?: unknown }[] } | null
    if (document === null || typeof document !== 'object' || !Array.isArray(document.contexts ?? []))
      throw new Error('not a kubeconfig (no contexts list)')
    contexts = (document.contexts ?? []).map((c) => String(c?.name ?? ''))
  } catch (error) {
    throw new InputError(
      `${variable} names ${kubeconfig}, which cannot be read: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    )
  }
  return { kubeconfig, contexts, ...(token ? { token } : {}) }
}

/**
 * The kubeconfig context of a cluster: the one named after its id, else after its alias;
 * undefined when the kubeconfig has neither (then the inventory's `apiServer` is used).
 */
export function contextOf(
  config: Pick<KubernetesConfig, 'contexts'>,
  cluster: { readonly id: string; readonly name: string },
): string | undefined {
  return [cluster.id, cluster.name].find((name) => config.contexts.includes(name))
}
