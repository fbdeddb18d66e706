/**
 * The slice of `@kubernetes/client-node` the `kubernetes` provider uses, and the one factory that
 * builds it for a cluster: from its kubeconfig context, else from the inventory's `apiServer`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import * as k8s from '@kubernetes/client-node'
// The client's own (de)serializer: not re-exported by the package's index, but public in dist.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js'
import type { Target } from '../../core/model/fleet-model.ts'
import { canonicalJson } from '../../core/provider/fingerprint.ts'
import { ProviderError } from '../../core/provider/port.ts'
import { contextOf, type KubernetesConfig } from './kubernetes-config.ts'

/** A Kubernetes object as the API sends and takes it. */
export type KubeObject = Record<string, unknown> & {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata?: Record<string, unknown>
}

/** A kind the cluster serves. */
export interface ServedKind {
  readonly apiVersion: string
  readonly kind: string
}

/**
 * What the provider asks of one cluster. Every call takes an optional `signal` that aborts its
 * requests (the call then rejects, with an error of the client's).
 */
export interface ClusterClient {
  /** Server-side apply of `object` as field manager `manager`, with `force`. */
  apply(object: KubeObject, manager: string, force: boolean, signal?: AbortSignal): Promise<KubeObject>
  /** The objects of a kind in every namespace that match `labelSelector`. */
  list(kind: ServedKind, labelSelector: string, signal?: AbortSignal): Promise<KubeObject[]>
  /** Deletes an object; one already gone is no error. */
  delete(object: KubeObject, signal?: AbortSignal): Promise<void>
  /** The kinds the cluster serves that can be listed, patched and deleted (discovery). */
  kinds(signal?: AbortSignal): Promise<ServedKind[]>
  /** The control plane's minor version, as the inventory writes it (`1.31`), from `/version`. */
  version(signal?: AbortSignal): Promise<string>
}

/**
 * The signal of the call under way, for the requests it makes: `KubernetesObjectApi` builds its
 * requests (discovery ones too) deep inside, with no parameter that reaches them.
 */
const callSignal = new AsyncLocalStorage<AbortSignal | undefined>()

/** `KubernetesObjectApi` with discovery, and each request aborted by the signal of its call. */
class ObjectApi extends k8s.KubernetesObjectApi {
  async resourcesOf(apiVersion: string): Promise<k8s.V1APIResource[]> {
    // `resource` reads and caches the group version's resource list, whatever kind it is asked for.
    await this.resource(apiVersion, '')
    return this.apiVersionResourceCache[apiVersion]?.resources ?? []
  }

  protected override requestPromise<T extends k8s.KubernetesObject>(
    requestContext: k8s.RequestContext,
    type?: string,
    options?: k8s.Configuration,
  ): Promise<T> {
    const signal = callSignal.getStore()
    if (signal) requestContext.setSignal(signal)
    return super.requestPromise<T>(requestContext, type, options)
  }
}

/** Runs `call` with its requests aborted by `signal`. */
function withSignal<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  return callSignal.run(signal, call)
}

/** The options of a generated API's call that `signal` aborts (none without one). */
function signalled(signal: AbortSignal | undefined): k8s.ConfigurationOptions | undefined {
  if (!signal) return undefined
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal)
          return new k8s.Observable(Promise.resolve(context))
        },
        post: (response) => new k8s.Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  }
}

/** The client's model of a kind (`V1Deployment`), as it names them. */
function modelOf(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? apiVersion
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`
}

/**
 * `KubernetesObjectApi` reads and writes objects of built-in kinds through its typed models,
 * whose property names are not always the wire's (`default` is `_default`) and which know only
 * the fields of their Kubernetes version. Objects go in and come out in wire form here; an object
 * the models cannot carry whole is refused rather than applied with fields missing.
 */
function toModel(target: Target, object: KubeObject): KubeObject {
  const model = modelOf(String(object.apiVersion), String(object.kind))
  const typed = ObjectSerializer.deserialize(structuredClone(object), model) as KubeObject
  if (canonicalJson(ObjectSerializer.serialize(typed, model)) !== canonicalJson(object))
    throw new ProviderError(
      'invalid',
      target.id,
      `${String(object.kind)} ${String(object.metadata?.name)} has fields the Kubernetes client (${model}) does not know; it was not applied`,
    )
  return typed
}

function fromModel(typed: KubeObject, apiVersion: string, kind: string): KubeObject {
  return ObjectSerializer.serialize(typed, modelOf(apiVersion, kind)) as KubeObject
}

/** How the cluster is reached, for messages: `context kube-1` or `https://…`. */
export function connectionOf(config: KubernetesConfig, target: Target): string {
  const context = contextOf(config, target)
  if (context !== undefined) return `kubeconfig context ${context}`
  if (target.apiServer !== undefined) return target.apiServer
  throw new ProviderError(
    'invalid',
    target.id,
    `cluster ${target.id} has no kubeconfig context named ${target.id} or ${target.name}${config.kubeconfig ? ` in ${config.kubeconfig}` : ' (FLOTILLA_KUBECONFIG is not set)'} and no apiServer in the inventory`,
  )
}

/** The client of one cluster (see the module comment; {@link connectionOf} says which way). */
export function clusterClient(config: KubernetesConfig, target: Target): ClusterClient {
  const kc = new k8s.KubeConfig()
  const context = contextOf(config, target)
  if (context !== undefined && config.kubeconfig !== undefined) {
    kc.loadFromFile(config.kubeconfig)
    kc.setCurrentContext(context)
  } else {
    connectionOf(config, target) // throws without an apiServer
    kc.loadFromOptions({
      clusters: [
        {
          name: target.id,
          server: target.apiServer,
          // The client refuses plain http unless told there is no TLS to verify; https is verified.
          skipTLSVerify: target.apiServer?.startsWith('http://') === true,
        },
      ],
      users: [{ name: 'flotilla', ...(config.token ? { token: config.token } : {}) }],
      contexts: [{ name: target.id, cluster: target.id, user: 'flotilla' }],
      currentContext: target.id,
    })
  }
  const objects = kc.makeApiClient(ObjectApi)
  const apis = kc.makeApiClient(k8s.ApisApi)
  const versions = kc.makeApiClient(k8s.VersionApi)
  return {
    async version(signal) {
      const info = await versions.getCode({}, signalled(signal))
      // Managed services report minors such as `31+`: the digits are the version.
      return `${info.major}.${info.minor.replace(/\D+$/, '')}`
    },
    apply: (object, manager, force, signal) =>
      withSignal(signal, async () => {
        const applied = await objects.patch(
          toModel(target, object) as k8s.KubernetesObject,
          undefined,
          undefined,
          manager,
          force,
          k8s.PatchStrategy.ServerSideApply,
        )
        return fromModel(applied as KubeObject, String(object.apiVersion), String(object.kind))
      }),
    list: (kind, labelSelector, signal) =>
      withSignal(signal, async () => {
        const listed = await objects.list(
          kind.apiVersion,
          kind.kind,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
        )
        // Items of a list carry no apiVersion and kind of their own.
        return listed.items.map((item) =>
          fromModel(
            { ...item, apiVersion: kind.apiVersion, kind: kind.kind } as KubeObject,
            kind.apiVersion,
            kind.kind,
          ),
        )
      }),
    delete: (object, signal) =>
      withSignal(signal, async () => {
        try {
          await objects.delete(toModel(target, object) as k8s.KubernetesObject)
        } catch (error) {
          if ((error as { code?: unknown }).code !== 404) throw error
        }
      }),
    async kinds(signal) {
      const groups = await apis.getAPIVersions({}, signalled(signal))
      const versions = [
        'v1',
        ...groups.groups.flatMap((g) => (g.preferredVersion ? [g.preferredVersion.groupVersion] : [])),
      ]
      const out: ServedKind[] = []
      for (const apiVersion of versions)
        for (const r of await withSignal(signal, () => objects.resourcesOf(apiVersion)))
          if (!r.name.includes('/') && ['list', 'patch', 'delete'].every((verb) => r.verbs.includes(verb)))
            out.push({ apiVersion, kind: r.kind })
      return out
    },
  }
}
