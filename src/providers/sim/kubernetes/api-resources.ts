/**
 * The kinds the simulated Kubernetes API serves, and its discovery documents (`/api`, `/apis`,
 * `/api/v1`, `/apis/<group>/<version>`), which clients such as `KubernetesObjectApi` read to
 * turn a kind into a URL: the kinds of the example fleet's manifests, plus Nodes, Pods,
 * PodDisruptionBudgets and Namespaces.
 */
import { KubeError } from './kube-errors.ts'

/** One resource of the API. */
export interface ApiResource {
  /** `''` for the core group (`/api/v1`). */
  readonly group: string
  readonly version: string
  readonly kind: string
  /** The plural in URLs: `deployments`. */
  readonly plural: string
  readonly namespaced: boolean
  readonly shortNames?: readonly string[]
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update'] as const

const resource = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames?: readonly string[],
): ApiResource => ({ group, version, kind, plural, namespaced, ...(shortNames ? { shortNames } : {}) })

/** Every resource served, by group. */
export const API_RESOURCES: readonly ApiResource[] = [
  resource('', 'v1', 'Namespace', 'namespaces', false, ['ns']),
  resource('', 'v1', 'Node', 'nodes', false, ['no']),
  resource('', 'v1', 'Pod', 'pods', true, ['po']),
  resource('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  resource('', 'v1', 'Secret', 'secrets', true),
  resource('', 'v1', 'Service', 'services', true, ['svc']),
  resource('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  resource('', 'v1', 'LimitRange', 'limitranges', true, ['limits']),
  resource('apps', 'v1', 'Deployment', 'deployments', true, ['deploy']),
  resource('apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts']),
  resource('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds']),
  resource('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb']),
  resource('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  resource('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  resource('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  resource('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  resource('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false, ['pc']),
  resource('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, ['ing']),
  resource('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  resource('apiregistration.k8s.io', 'v1', 'APIService', 'apiservices', false),
]

/** `apps/v1`, or `v1` for the core group. */
export function groupVersionOf(resource: Pick<ApiResource, 'group' | 'version'>): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`
}

/** The resource of a URL's group, version and plural; 404 as Kubernetes answers an unknown one. */
export function resourceOf(group: string, version: string, plural: string): ApiResource {
  const found = API_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural)
  if (!found)
    throw new KubeError(
      404,
      'NotFound',
      `the server could not find the requested resource: ${group === '' ? '' : `${group}/`}${version} ${plural} is not served by the simulated cluster (GET /api/v1 and /apis list what is)`,
    )
  return found
}

/** The resource of a kind (kinds are unique across the served groups). */
export function resourceOfKind(kind: string): ApiResource | undefined {
  return API_RESOURCES.find((r) => r.kind === kind)
}

/** `GET /api`. */
export function coreVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] }
}

/** `GET /apis`. */
export function groupList(): Record<string, unknown> {
  const groups = [...new Set(API_RESOURCES.filter((r) => r.group !== '').map((r) => r.group))]
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDocument) }
}

/** `GET /apis/<group>`. */
export function groupDocument(group: string): Record<string, unknown> {
  const versions = [...new Set(API_RESOURCES.filter((r) => r.group === group).map((r) => r.version))]
  if (versions.length === 0)
    throw new KubeError(
      404,
      'NotFound',
      `the server could not find the requested resource: API group ${group}`,
    )
  const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }))
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: entries, preferredVersion: entries[0] }
}

/** `GET /api/v1` or `GET /apis/<group>/<version>`. */
export function resourceList(group: string, version: string): Record<string, unknown> {
  const served = API_RESOURCES.filter((r) => r.group === group && r.version === version)
  if (served.length === 0)
    throw new KubeError(
      404,
      'NotFound',
      `the server could not find the requested resource: ${groupVersionOf({ group, version })} is not served`,
    )
  const resources: Record<string, unknown>[] = served.map((r) => ({
    name: r.plural,
    singularName: r.kind.toLowerCase(),
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: [...VERBS],
    ...(r.shortNames ? { shortNames: [...r.shortNames] } : {}),
  }))
  if (group === '') {
    resources.push({
      name: 'pods/eviction',
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    })
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf({ group, version }),
    resources,
  }
}
