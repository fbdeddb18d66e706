/**
 * The simulated fleet's Kubernetes-compatible API, as kwok offers one: one loopback HTTP
 * listener serving every simulated cluster under its own base URL,
 * `http://127.0.0.1:PORT/clusters/<cluster id>` — the `server` of a kubeconfig cluster, which
 * `@kubernetes/client-node` and kubectl accept with a path. It works on the simulated fleet's own
 * objects (see `cluster-objects.ts`): what a client applies here, `flotilla plan` and
 * `sim status` see, and what Flotilla applies, clients read here.
 *
 * Requests to one cluster are handled one at a time: its controllers run before each (see
 * `controllers.ts`), and one writer per cluster keeps them from creating a pod twice.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Kysely } from 'kysely'
import { parse as parseYaml } from 'yaml'
import { canonicalJson } from '../../../core/provider/fingerprint.ts'
import { ProviderError } from '../../../core/provider/port.ts'
import { SERVER_SET_METADATA } from '../../../core/resource-types/kubernetes.ts'
import type { Database } from '../../../store/tables.ts'
import { failCallUnderFaults } from '../faults.ts'
import { listenHttp, readRequestBody } from '../http-listen.ts'
import { objectReadyMs } from '../latency.ts'
import { type SimDb, simDatabase } from '../sim-database.ts'
import type { SimProvider } from '../sim-provider.ts'
import { clusterIds, clusterInfo as knownClusterInfo } from '../sim-targets.ts'
import {
  type ApiResource,
  coreVersions,
  groupDocument,
  groupList,
  groupVersionOf,
  resourceList,
  resourceOf,
} from './api-resources.ts'
import {
  deleteObjects,
  insertObject,
  loadClusterObjects,
  resyncExternalDns,
  type StoredObject,
  updateObject,
} from './cluster-objects.ts'
import { ClusterView } from './cluster-view.ts'
import { isBuiltInNamespace, reconcileCluster, type SimClusterInfo } from './controllers.ts'
import { evictionRefusal } from './eviction.ts'
import { loadImageRegistry } from './image-registry.ts'
import { failureStatus, KubeError, notFound, qualified, toKubeError } from './kube-errors.ts'
import { type ManagedFieldsEntry, serverSideApply, updateManagedFields } from './managed-fields.ts'
import { validateObject } from './object-validation.ts'
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts'

/** Options of {@link startKubernetesServer}. */
export interface KubernetesServerOptions {
  /** The store the simulated fleet lives in. */
  readonly db: Kysely<Database>
  readonly sim: SimProvider
  /** @default '127.0.0.1' */
  readonly host?: string
  /** TCP port; 0 picks any free port. @default 0 */
  readonly port?: number
  /** @default the current time */
  readonly now?: () => Date
  /** Draws whether a fault with a rate hits a request. @default Math.random */
  readonly random?: () => number
}

/** A running endpoint. */
export interface KubernetesServer {
  /** `http://127.0.0.1:PORT`, without a cluster. */
  readonly url: string
  readonly port: number
  /** The base URL of a cluster: `http://127.0.0.1:PORT/clusters/<id>`, a kubeconfig's `server`. */
  clusterUrl(clusterId: string): string
  /** The base URL of every cluster the simulated fleet has, by id. */
  clusterUrls(): Promise<Record<string, string>>
  close(): Promise<void>
}

/** Kubernetes' own limit on a request body. */
const MAX_BODY_BYTES = 3 * 1024 * 1024

type Json = Record<string, unknown>

/** The options as the handlers use them: the store's simulated fleet schema. */
type ServingOptions = Omit<KubernetesServerOptions, 'db'> & { readonly db: SimDb }

/** Starts the endpoint on `host:port`. */
export async function startKubernetesServer(given: KubernetesServerOptions): Promise<KubernetesServer> {
  const options: ServingOptions = { ...given, db: await simDatabase(given.db) }
  const host = options.host ?? '127.0.0.1'
  const queues = new Map<string, Promise<unknown>>()
  const server = createServer((request, response) => {
    void answer(options, queues, request, response)
  })
  const listening = await listenHttp(server, host, options.port ?? 0)
  const clusterUrl = (id: string) => `${listening.origin}/clusters/${id}`
  return {
    url: listening.origin,
    port: listening.port,
    clusterUrl,
    async clusterUrls() {
      return Object.fromEntries((await clusterIds(options.db)).map((id) => [id, clusterUrl(id)]))
    },
    close: listening.close,
  }
}

async function answer(
  options: ServingOptions,
  queues: Map<string, Promise<unknown>>,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const send = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' })
    response.end(JSON.stringify(body))
  }
  try {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const match = /^\/clusters\/([^/]+)(\/.*)?$/.exec(url.pathname)
    if (!match)
      throw new KubeError(
        404,
        'NotFound',
        `no cluster in ${url.pathname}: every simulated cluster is under /clusters/<cluster id>`,
      )
    const cluster = decodeURIComponent(match[1]!)
    const body = await readRequestBody(
      request,
      MAX_BODY_BYTES,
      () =>
        new KubeError(
          413,
          'RequestEntityTooLarge',
          `the request body is larger than ${MAX_BODY_BYTES} bytes`,
        ),
    )
    // One request per cluster at a time: controllers and writes of a cluster never interleave.
    const previous = queues.get(cluster) ?? Promise.resolve()
    const run = previous.then(() =>
      handle(
        options,
        cluster,
        request.method ?? 'GET',
        match[2] ?? '/',
        url.searchParams,
        request.headers['content-type'] ?? '',
        body,
      ),
    )
    const settled = run.catch(() => undefined)
    queues.set(cluster, settled)
    void settled.then(() => {
      if (queues.get(cluster) === settled) queues.delete(cluster)
    })
    const result = await run
    send(result.status, result.body)
  } catch (error) {
    const failure = toKubeError(error)
    send(failure.code, failureStatus(failure))
  }
}

/**
 * The simulated fleet's faults, as a Kubernetes API server shows them: api-errors as 500,
 * throttling as 429 (clients back off and retry), an outage of the cluster's region as 503.
 */
async function failUnderFaults(options: ServingOptions, cluster: string, info: SimClusterInfo) {
  try {
    failCallUnderFaults(
      await options.sim.faults(),
      { id: cluster, regions: info.regions },
      (options.now ?? (() => new Date()))(),
      options.random ?? Math.random,
    )
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error
    if (error.code === 'throttled') throw new KubeError(429, 'TooManyRequests', error.message)
    const outage = error.message.startsWith('region ')
    throw new KubeError(outage ? 503 : 500, outage ? 'ServiceUnavailable' : 'InternalError', error.message)
  }
}

interface Reply {
  readonly status: number
  readonly body: unknown
}

async function clusterInfo(db: SimDb, cluster: string): Promise<SimClusterInfo> {
  const info = await knownClusterInfo(db, cluster)
  if (!info)
    throw new KubeError(
      404,
      'NotFound',
      `cluster ${cluster} is not a cluster of the simulated fleet; use the id of a cluster in the inventory (flotilla sim status seeds them)`,
    )
  return info as SimClusterInfo
}

async function handle(
  options: ServingOptions,
  cluster: string,
  method: string,
  path: string,
  query: URLSearchParams,
  contentType: string,
  body: string,
): Promise<Reply> {
  const info = await clusterInfo(options.db, cluster)
  await failUnderFaults(options, cluster, info)
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent)
  if (segments[0] === 'version' && segments.length === 1) return { status: 200, body: versionOf(info) }
  if (segments[0] === 'api' && segments.length === 1) return { status: 200, body: coreVersions() }
  if (segments[0] === 'apis' && segments.length === 1) return { status: 200, body: groupList() }
  if (segments[0] === 'apis' && segments.length === 2)
    return { status: 200, body: groupDocument(segments[1]!) }
  const [group, version, rest] =
    segments[0] === 'api' ? ['', segments[1] ?? '', segments.slice(2)] : ['', '', []]
  const target =
    segments[0] === 'api'
      ? { group, version, rest }
      : segments[0] === 'apis'
        ? { group: segments[1] ?? '', version: segments[2] ?? '', rest: segments.slice(3) }
        : undefined
  if (!target)
    throw new KubeError(404, 'NotFound', `the server could not find the requested resource: ${path}`)
  if (target.rest.length === 0) return { status: 200, body: resourceList(target.group, target.version) }
  const namespaced = target.rest[0] === 'namespaces' && target.rest.length >= 3
  const namespace = namespaced ? target.rest[1] : undefined
  const [plural, name, subresource] = namespaced ? target.rest.slice(2) : target.rest
  const resource = resourceOf(target.group, target.version, plural!)
  if (namespaced && !resource.namespaced)
    throw new KubeError(
      404,
      'NotFound',
      `${qualified(resource)} are cluster-scoped: drop /namespaces/${namespace} from the path`,
    )
  if (query.get('watch') === 'true' || query.get('watch') === '1')
    throw new KubeError(
      405,
      'MethodNotAllowed',
      'the simulated API does not serve watches; list again instead',
    )

  const now = (options.now ?? (() => new Date()))()
  const scale = (await options.sim.settings()).latencyScale
  const registry = await loadImageRegistry(options.db)
  const viewOf = (objects: readonly StoredObject[]) => new ClusterView(objects, now, scale, registry)
  const view = viewOf(await reconcileCluster(options.db, cluster, info, viewOf))
  const call: Call = { options, cluster, resource, namespace, now, scale, view, query, contentType, body }

  if (name === undefined) {
    if (method === 'GET') return { status: 200, body: list(call) }
    if (method === 'POST') return create(call)
  } else if (subresource === undefined) {
    if (method === 'GET') return { status: 200, body: render(call, find(call, name)) }
    if (method === 'DELETE') return remove(call, name)
    if (method === 'PATCH') return patch(call, name)
    if (method === 'PUT') return replace(call, name)
  } else if (subresource === 'eviction' && resource.kind === 'Pod' && method === 'POST') {
    return evict(call, name)
  }
  throw new KubeError(
    405,
    'MethodNotAllowed',
    `${method} ${path} is not served: the simulated API serves get, list, create, delete, patch (apply and merge) and update, and pods/<name>/eviction`,
  )
}

interface Call {
  readonly options: ServingOptions
  readonly cluster: string
  readonly resource: ApiResource
  readonly namespace: string | undefined
  readonly now: Date
  readonly scale: number
  readonly view: ClusterView
  readonly query: URLSearchParams
  readonly contentType: string
  readonly body: string
}

function versionOf(info: SimClusterInfo): Json {
  const [major, minor] = (info.kubernetesVersion ?? '1.31').split('.')
  return { major, minor, gitVersion: `v${major}.${minor}.0`, platform: 'linux/amd64', goVersion: 'simulated' }
}

/** The object as the API shows it: server metadata in, status as its controller reports it. */
function render(call: Pick<Call, 'view'>, stored: StoredObject): Json {
  const metadata = (stored.object.metadata ?? {}) as Json
  const status = call.view.statusOf(stored)
  const { status: _internal, ...rest } = stored.object
  return {
    ...rest,
    metadata: {
      ...metadata,
      name: stored.name,
      ...(stored.namespace !== undefined ? { namespace: stored.namespace } : {}),
      uid: stored.uid,
      resourceVersion: String(stored.resourceVersion),
      generation: stored.generation,
      creationTimestamp: stored.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      managedFields: stored.managedFields,
    },
    ...(status !== undefined
      ? { status }
      : stored.object.status !== undefined
        ? { status: stored.object.status }
        : {}),
  }
}

function find(call: Call, name: string): StoredObject {
  const found = call.view.objects.find(
    (o) => o.kind === call.resource.kind && o.name === name && o.namespace === call.namespace,
  )
  if (!found) throw notFound(call.resource, name)
  return found
}

function list(call: Call): Json {
  const labels = parseLabelSelector(call.query.get('labelSelector') ?? '')
  const fields = parseFieldSelector(call.query.get('fieldSelector') ?? '')
  const items = call.view.objects
    .filter(
      (o) =>
        o.kind === call.resource.kind && (call.namespace === undefined || o.namespace === call.namespace),
    )
    .filter((o) => matchesLabels(labels, (o.object.metadata as Json | undefined)?.labels as Json | undefined))
    .map((o) => render(call, o))
    .filter((o) => matchesFields(fields, o))
    .sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
  const version = Math.max(0, ...call.view.objects.map((o) => o.resourceVersion))
  return {
    kind: `${call.resource.kind}List`,
    apiVersion: groupVersionOf(call.resource),
    metadata: { resourceVersion: String(version) },
    items,
  }
}

const sortKey = (o: Json) => {
  const m = o.metadata as Json
  return `${String(m.namespace ?? '')}/${String(m.name)}`
}

/** Parses a request body: JSON, or YAML for apply patches. */
function parseBody(call: Call): Json {
  try {
    const parsed: unknown = call.contentType.includes('yaml') ? parseYaml(call.body) : JSON.parse(call.body)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object')
    return parsed as Json
  } catch (error) {
    throw new KubeError(
      400,
      'BadRequest',
      `the request body is not a ${call.contentType.includes('yaml') ? 'YAML' : 'JSON'} object: ${(error as Error).message}`,
    )
  }
}

/**
 * Checks that a body names the resource and namespace of its URL and fills in what the URL
 * implies; 400 BadRequest when they disagree.
 */
function checkIdentity(call: Call, object: Json, name?: string): Json {
  const metadata = { ...((object.metadata ?? {}) as Json) }
  const expected = groupVersionOf(call.resource)
  if (object.apiVersion !== undefined && object.apiVersion !== expected)
    throw new KubeError(
      400,
      'BadRequest',
      `the body's apiVersion ${String(object.apiVersion)} does not match the URL's ${expected}`,
    )
  if (object.kind !== undefined && object.kind !== call.resource.kind)
    throw new KubeError(
      400,
      'BadRequest',
      `the body's kind ${String(object.kind)} does not match the URL's ${call.resource.kind}`,
    )
  if (call.resource.namespaced) {
    if (metadata.namespace !== undefined && metadata.namespace !== call.namespace)
      throw new KubeError(
        400,
        'BadRequest',
        `the namespace of the provided object (${String(metadata.namespace)}) does not match the namespace sent on the request (${String(call.namespace)})`,
      )
    if (call.namespace === undefined)
      throw new KubeError(
        400,
        'BadRequest',
        `${qualified(call.resource)} are namespaced: send them to /namespaces/<namespace>/${call.resource.plural}`,
      )
    metadata.namespace = call.namespace
  } else delete metadata.namespace
  if (name !== undefined) {
    if (metadata.name !== undefined && metadata.name !== name)
      throw new KubeError(
        400,
        'BadRequest',
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
      )
    metadata.name = name
  }
  if (metadata.name === undefined && typeof metadata.generateName === 'string')
    metadata.name = `${metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`
  // Server-set metadata is the server's: a client's copy of it is not stored.
  for (const field of SERVER_SET_METADATA) delete metadata[field]
  const { status: _status, ...rest } = object
  return { ...rest, apiVersion: expected, kind: call.resource.kind, metadata }
}

function requireNamespace(call: Call): void {
  if (call.namespace === undefined) return
  if (!call.view.objects.some((o) => o.kind === 'Namespace' && o.name === call.namespace))
    throw new KubeError(
      404,
      'NotFound',
      `namespaces "${call.namespace}" not found: create the namespace first`,
      {
        name: call.namespace,
        kind: 'namespaces',
      },
    )
}

const dryRun = (call: Call) => call.query.get('dryRun') === 'All'

async function create(call: Call): Promise<Reply> {
  const object = checkIdentity(call, parseBody(call))
  validateObject(call.resource, object)
  requireNamespace(call)
  const name = String((object.metadata as Json).name)
  const manager = call.query.get('fieldManager') ?? 'unknown'
  const managedFields = updateManagedFields(
    undefined,
    object,
    [],
    manager,
    groupVersionOf(call.resource),
    call.now,
  )
  if (dryRun(call)) return { status: 201, body: object }
  await write(call, () => insertNew(call, name, object, managedFields))
  return { status: 201, body: await reread(call, name) }
}

/** Writes, then lets external-dns follow. */
async function write(call: Call, change: () => Promise<void>): Promise<void> {
  await change()
  await resyncExternalDns(call.options.db, call.cluster)
}

async function reread(call: Call, name: string): Promise<Json> {
  const objects = await loadClusterObjects(call.options.db, call.cluster)
  const view = new ClusterView(objects, call.now, call.scale, call.view.registry)
  const found = objects.find(
    (o) => o.kind === call.resource.kind && o.name === name && o.namespace === call.namespace,
  )
  if (!found) throw notFound(call.resource, name)
  return render({ view }, found)
}

async function remove(call: Call, name: string): Promise<Reply> {
  const stored = find(call, name)
  if (call.resource.kind === 'Namespace' && isBuiltInNamespace(name))
    throw new KubeError(
      403,
      'Forbidden',
      `namespaces "${name}" is forbidden: this namespace may not be deleted`,
      {
        name,
        kind: 'namespaces',
      },
    )
  const rendered = render(call, stored)
  if (dryRun(call)) return { status: 200, body: rendered }
  // Deleting a namespace deletes what is in it (at once; Kubernetes takes a while, via Terminating).
  const contents =
    call.resource.kind === 'Namespace' ? call.view.objects.filter((o) => o.namespace === name) : []
  await write(call, () => deleteObjects(call.options.db, [stored, ...contents]))
  return { status: 200, body: rendered }
}

/** Whether spec-like content changed: what bumps `metadata.generation`. */
function specChanged(before: Json, after: Json): boolean {
  const strip = ({ metadata: _m, status: _s, ...rest }: Json) => canonicalJson(rest)
  return strip(before) !== strip(after)
}

async function patch(call: Call, name: string): Promise<Reply> {
  const type = call.contentType.split(';')[0]!.trim()
  if (type === 'application/apply-patch+yaml') return apply(call, name)
  if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json')
    throw new KubeError(
      415,
      'UnsupportedMediaType',
      `the simulated API takes patches as application/apply-patch+yaml (server-side apply), application/merge-patch+json or application/strategic-merge-patch+json (applied as a merge patch), not ${type || 'no Content-Type'}`,
    )
  const stored = find(call, name)
  const patched = checkIdentity(call, mergePatch(stored.object, parseBody(call)) as Json, name)
  return replaceWith(call, stored, patched)
}

async function replace(call: Call, name: string): Promise<Reply> {
  const stored = find(call, name)
  const body = parseBody(call)
  const version = (body.metadata as Json | undefined)?.resourceVersion
  if (version !== undefined && String(version) !== String(stored.resourceVersion))
    throw new KubeError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(call.resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, kind: call.resource.plural },
    )
  return replaceWith(call, stored, checkIdentity(call, body, name))
}

async function replaceWith(call: Call, stored: StoredObject, next: Json): Promise<Reply> {
  // What the cluster set itself (a pod's node and start) survives a client's write.
  if (stored.object.status !== undefined) next.status = stored.object.status
  validateObject(call.resource, next)
  const manager = call.query.get('fieldManager') ?? 'unknown'
  const managedFields = updateManagedFields(
    stored.object,
    next,
    stored.managedFields,
    manager,
    groupVersionOf(call.resource),
    call.now,
  )
  if (canonicalJson(next) === canonicalJson(stored.object) || dryRun(call))
    return { status: 200, body: render(call, dryRun(call) ? { ...stored, object: next } : stored) }
  await write(call, () =>
    updateObject(call.options.db, stored, next, managedFields, {
      bumpGeneration: specChanged(stored.object, next),
      readyAt: new Date(call.now.getTime() + objectReadyMs(call.resource.kind, call.scale)),
    }),
  )
  return { status: 200, body: await reread(call, stored.name) }
}

/** RFC 7386: maps merge, `null` removes, everything else replaces. */
function mergePatch(target: unknown, patchValue: unknown): unknown {
  if (typeof patchValue !== 'object' || patchValue === null || Array.isArray(patchValue)) return patchValue
  const out: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {}
  for (const [key, value] of Object.entries(patchValue)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }
  return out
}

const sameOwnership = (a: readonly ManagedFieldsEntry[], b: readonly ManagedFieldsEntry[]) =>
  canonicalJson(a.map(({ time: _t, ...rest }) => rest)) ===
  canonicalJson(b.map(({ time: _t, ...rest }) => rest))

async function apply(call: Call, name: string): Promise<Reply> {
  const manager = call.query.get('fieldManager')
  if (!manager)
    throw new KubeError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch; add ?fieldManager=<your tool>',
      {
        kind: 'PatchOptions',
        group: 'meta.k8s.io',
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: is required for apply patch',
            field: 'fieldManager',
          },
        ],
      },
    )
  const force = call.query.get('force') === 'true'
  const applied = checkIdentity(call, parseBody(call), name)
  const stored = call.view.objects.find(
    (o) => o.kind === call.resource.kind && o.name === name && o.namespace === call.namespace,
  )
  const result = serverSideApply({
    current: stored?.object,
    managedFields: stored?.managedFields ?? [],
    applied,
    manager,
    force,
    apiVersion: groupVersionOf(call.resource),
    now: call.now,
    describe: `${qualified(call.resource)} "${name}"`,
  })
  if (stored?.object.status !== undefined) result.object.status = stored.object.status
  validateObject(call.resource, result.object)
  if (stored === undefined) {
    requireNamespace(call)
    if (dryRun(call)) return { status: 201, body: result.object }
    await write(call, () => insertNew(call, name, result.object, result.managedFields))
    return { status: 201, body: await reread(call, name) }
  }
  // Applying what is already there changes nothing: no write, the resourceVersion stays.
  if (
    dryRun(call) ||
    (canonicalJson(result.object) === canonicalJson(stored.object) &&
      sameOwnership(result.managedFields, stored.managedFields))
  )
    return { status: 200, body: render(call, dryRun(call) ? { ...stored, object: result.object } : stored) }
  await write(call, () =>
    updateObject(call.options.db, stored, result.object, result.managedFields, {
      bumpGeneration: specChanged(stored.object, result.object),
      readyAt: new Date(call.now.getTime() + objectReadyMs(call.resource.kind, call.scale)),
    }),
  )
  return { status: 200, body: await reread(call, name) }
}

/**
 * `POST pods/<name>/eviction`: deletes the pod unless its PodDisruptionBudget would be violated
 * (429, as Kubernetes answers, so clients retry later); a pod under two budgets cannot be evicted.
 */
async function evict(call: Call, name: string): Promise<Reply> {
  const pod = find(call, name)
  const refusal = evictionRefusal(call.view, pod)
  if (refusal?.code === 'several-budgets') throw new KubeError(500, 'InternalError', refusal.message)
  if (refusal)
    throw new KubeError(
      429,
      'TooManyRequests',
      "Cannot evict pod as it would violate the pod's disruption budget.",
      { causes: [{ reason: 'DisruptionBudget', message: refusal.message }] },
    )
  if (!dryRun(call)) await deleteObjects(call.options.db, [pod])
  return {
    status: 201,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
  }
}

/** Stores an object the request creates, ready after its kind's delay. */
function insertNew(call: Call, name: string, object: Json, managedFields: readonly ManagedFieldsEntry[]) {
  return insertObject(call.options.db, {
    cluster: call.cluster,
    kind: call.resource.kind,
    namespace: call.namespace,
    name,
    object,
    managedFields,
    readyAt: new Date(call.now.getTime() + objectReadyMs(call.resource.kind, call.scale)),
  })
}
