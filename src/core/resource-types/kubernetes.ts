import type { Replacement } from '../model/plan.ts'

/**
 * Fields of built-in Kubernetes kinds that the API server refuses to change after creation: a
 * change to one of them can only be made by deleting the object and creating it again.
 */

type ObjectPath = readonly string[]

/** One immutable field (or subtree) of a kind. Paths are from the object's root; `*` matches any list index or key. */
export interface ImmutableField {
  readonly path: ObjectPath
  /** Subtrees of `path` that stay mutable (a StatefulSet's `spec.replicas` inside its immutable `spec`). */
  readonly except?: readonly ObjectPath[]
  /** `conditional` where the server allows some changes (adding a secondary cluster IP). @default true */
  readonly replacement?: true | 'conditional'
  /** Whether the rule applies to this object (ConfigMap data only with `immutable: true`). @default always */
  readonly when?: (object: KubernetesObject) => boolean
}

/** The parts of an object the rules read. */
interface KubernetesObject {
  readonly apiVersion?: unknown
  readonly immutable?: unknown
  readonly spec?: { readonly type?: unknown; readonly completionMode?: unknown }
}

/** A built-in kind: its API group (`''` for the core group) and its immutable fields. */
export interface KindRules {
  readonly group: string
  readonly kind: string
  readonly fields: readonly ImmutableField[]
}

const whenImmutable = (object: KubernetesObject): boolean => object.immutable === true

/** Registers the rules of each kind once; a kind registered twice is a mistake in this file. */
function registry(kinds: readonly KindRules[]): ReadonlyMap<string, KindRules> {
  const map = new Map<string, KindRules>()
  for (const rules of kinds) {
    const key = `${rules.group}/${rules.kind}`
    if (map.has(key)) throw new Error(`immutable fields of ${key} registered twice`)
    map.set(key, rules)
  }
  return map
}

/**
 * The immutable fields of built-in kinds. Each entry cites the Kubernetes documentation (and the
 * API server's validation, `ValidateXUpdate` in `pkg/apis/<group>/validation`, which these follow).
 * Kinds without immutable fields (CronJob, Ingress, PodDisruptionBudget since policy/v1,
 * Namespace, HorizontalPodAutoscaler, Role, ClusterRole, …) need no entry.
 */
/** Metadata the API server sets on every object: never part of what a client applies or Flotilla renders. */
export const SERVER_SET_METADATA: readonly string[] = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
]

export const KUBERNETES_IMMUTABLE_FIELDS: ReadonlyMap<string, KindRules> = registry([
  // https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#label-selector-updates
  // "In API version apps/v1, a Deployment's label selector is immutable after it gets created."
  // The same holds for ReplicaSets and DaemonSets in apps/v1.
  { group: 'apps', kind: 'Deployment', fields: [{ path: ['spec', 'selector'] }] },
  { group: 'apps', kind: 'ReplicaSet', fields: [{ path: ['spec', 'selector'] }] },
  { group: 'apps', kind: 'DaemonSet', fields: [{ path: ['spec', 'selector'] }] },
  // https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/ — the API server:
  // "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template',
  // 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and
  // 'minReadySeconds' are forbidden" (so selector, serviceName, volumeClaimTemplates and
  // podManagementPolicy are immutable).
  {
    group: 'apps',
    kind: 'StatefulSet',
    fields: [
      {
        path: ['spec'],
        except: [
          ['spec', 'replicas'],
          ['spec', 'ordinals'],
          ['spec', 'template'],
          ['spec', 'updateStrategy'],
          ['spec', 'revisionHistoryLimit'],
          ['spec', 'persistentVolumeClaimRetentionPolicy'],
          ['spec', 'minReadySeconds'],
        ],
      },
    ],
  },
  // https://kubernetes.io/docs/concepts/workloads/controllers/job/ ("the pod template … is
  // immutable"); ValidateJobSpecUpdate: selector, template, completionMode, podFailurePolicy,
  // backoffLimitPerIndex, managedBy and successPolicy are immutable; completions too, except for
  // an Indexed Job changed together with parallelism (elastic Indexed Jobs).
  {
    group: 'batch',
    kind: 'Job',
    fields: [
      { path: ['spec', 'selector'] },
      { path: ['spec', 'template'] },
      { path: ['spec', 'completionMode'] },
      { path: ['spec', 'podFailurePolicy'] },
      { path: ['spec', 'backoffLimitPerIndex'] },
      { path: ['spec', 'managedBy'] },
      { path: ['spec', 'successPolicy'] },
      { path: ['spec', 'completions'], when: (o) => o.spec?.completionMode !== 'Indexed' },
      {
        path: ['spec', 'completions'],
        replacement: 'conditional',
        when: (o) => o.spec?.completionMode === 'Indexed',
      },
    ],
  },
  // https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/ — clusterIP
  // "may not be changed through updates unless the type field is also being changed to
  // ExternalName"; of clusterIPs and ipFamilies only the secondary entry may be added or removed;
  // loadBalancerClass "may not change once set" while the type stays LoadBalancer.
  {
    group: '',
    kind: 'Service',
    fields: [
      { path: ['spec', 'clusterIP'], when: (o) => o.spec?.type !== 'ExternalName' },
      { path: ['spec', 'clusterIPs'], replacement: 'conditional' },
      { path: ['spec', 'ipFamilies'], replacement: 'conditional' },
      { path: ['spec', 'loadBalancerClass'], when: (o) => o.spec?.type === 'LoadBalancer' },
    ],
  },
  // https://kubernetes.io/docs/concepts/storage/persistent-volumes/ — the API server: "spec is
  // immutable after creation except resources.requests and volumeAttributesClassName for bound
  // claims" (storageClassName, accessModes, volumeName, selector, volumeMode, dataSource, …).
  {
    group: '',
    kind: 'PersistentVolumeClaim',
    fields: [
      {
        path: ['spec'],
        except: [
          ['spec', 'resources', 'requests'],
          ['spec', 'volumeAttributesClassName'],
        ],
      },
    ],
  },
  // https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/persistent-volume-v1/
  // ValidatePersistentVolumeUpdate: "spec.persistentvolumesource is immutable after creation" (the
  // volume source fields below), and so are volumeMode and nodeAffinity once set.
  {
    group: '',
    kind: 'PersistentVolume',
    fields: [
      ...[
        'awsElasticBlockStore',
        'azureDisk',
        'azureFile',
        'cephfs',
        'cinder',
        'csi',
        'fc',
        'flexVolume',
        'flocker',
        'gcePersistentDisk',
        'glusterfs',
        'hostPath',
        'iscsi',
        'local',
        'nfs',
        'photonPersistentDisk',
        'portworxVolume',
        'quobyte',
        'rbd',
        'scaleIO',
        'storageos',
        'vsphereVolume',
      ].map((source) => ({ path: ['spec', source] })),
      { path: ['spec', 'volumeMode'] },
      { path: ['spec', 'nodeAffinity'] },
    ],
  },
  // https://kubernetes.io/docs/concepts/workloads/pods/#pod-update-and-replacement — "pod updates
  // may not change fields other than spec.containers[*].image, spec.initContainers[*].image,
  // spec.activeDeadlineSeconds, spec.tolerations (only additions to existing tolerations)" and
  // removing scheduling gates.
  {
    group: '',
    kind: 'Pod',
    fields: [
      {
        path: ['spec'],
        except: [
          ['spec', 'containers', '*', 'image'],
          ['spec', 'initContainers', '*', 'image'],
          ['spec', 'activeDeadlineSeconds'],
          ['spec', 'tolerations'],
          ['spec', 'schedulingGates'],
        ],
      },
      { path: ['spec', 'tolerations'], replacement: 'conditional' },
      { path: ['spec', 'schedulingGates'], replacement: 'conditional' },
    ],
  },
  // https://kubernetes.io/docs/concepts/configuration/secret/#secret-immutable and
  // https://kubernetes.io/docs/concepts/configuration/secret/#secret-types — with `immutable: true`
  // the data cannot change and the flag cannot be unset; a Secret's `type` never changes.
  {
    group: '',
    kind: 'Secret',
    fields: [
      { path: ['type'] },
      { path: ['data'], when: whenImmutable },
      { path: ['stringData'], when: whenImmutable },
      { path: ['immutable'], when: whenImmutable },
    ],
  },
  // https://kubernetes.io/docs/concepts/configuration/configmap/#configmap-immutable
  {
    group: '',
    kind: 'ConfigMap',
    fields: [
      { path: ['data'], when: whenImmutable },
      { path: ['binaryData'], when: whenImmutable },
      { path: ['immutable'], when: whenImmutable },
    ],
  },
  // https://kubernetes.io/docs/concepts/storage/storage-classes/ — ValidateStorageClassUpdate:
  // "updates to parameters are forbidden", likewise provisioner and reclaimPolicy;
  // volumeBindingMode "field is immutable".
  {
    group: 'storage.k8s.io',
    kind: 'StorageClass',
    fields: [
      { path: ['provisioner'] },
      { path: ['parameters'] },
      { path: ['reclaimPolicy'] },
      { path: ['volumeBindingMode'] },
    ],
  },
  // https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding
  // "After you create a binding, you cannot change the Role or ClusterRole that it refers to."
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', fields: [{ path: ['roleRef'] }] },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', fields: [{ path: ['roleRef'] }] },
  // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
  // ValidateCustomResourceDefinitionSpecUpdate: group and names.plural (they make up the name),
  // and for an established CRD scope and names.kind, are immutable.
  {
    group: 'apiextensions.k8s.io',
    kind: 'CustomResourceDefinition',
    fields: [
      { path: ['spec', 'group'] },
      { path: ['spec', 'names', 'plural'] },
      { path: ['spec', 'names', 'kind'] },
      { path: ['spec', 'scope'] },
    ],
  },
  // https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/#priorityclass
  // ValidatePriorityClassUpdate: value and preemptionPolicy may not be changed.
  {
    group: 'scheduling.k8s.io',
    kind: 'PriorityClass',
    fields: [{ path: ['value'] }, { path: ['preemptionPolicy'] }],
  },
  // https://kubernetes.io/docs/reference/kubernetes-api/service-resources/ingress-class-v1/
  // ValidateIngressClassUpdate: spec.controller is immutable.
  { group: 'networking.k8s.io', kind: 'IngressClass', fields: [{ path: ['spec', 'controller'] }] },
  // https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/
  // "addressType … This field is immutable after creation."
  { group: 'discovery.k8s.io', kind: 'EndpointSlice', fields: [{ path: ['addressType'] }] },
])

/** An object's name and namespace are its identity: another name is another object. */
const IDENTITY: readonly ImmutableField[] = [
  { path: ['metadata', 'name'] },
  { path: ['metadata', 'namespace'] },
]

/** The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → the core group `''`). */
function groupOf(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== 'string') return undefined
  const slash = apiVersion.lastIndexOf('/')
  return slash < 0 ? '' : apiVersion.slice(0, slash)
}

function rulesFor(kind: string, object: KubernetesObject): KindRules | undefined {
  const group = groupOf(object.apiVersion)
  if (group !== undefined) return KUBERNETES_IMMUTABLE_FIELDS.get(`${group}/${kind}`)
  // Without an apiVersion, the built-in kind of that name.
  return [...KUBERNETES_IMMUTABLE_FIELDS.values()].find((r) => r.kind === kind)
}

/** Whether `path` is `prefix` or below it (`*` in `prefix` matches any segment). */
function isAtOrBelow(path: ObjectPath, prefix: ObjectPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => segment === '*' || segment === path[i])
}

/** Whether `path` is strictly above `deeper`. */
function isAbove(path: ObjectPath, deeper: ObjectPath): boolean {
  return path.length < deeper.length && path.every((segment, i) => deeper[i] === '*' || deeper[i] === segment)
}

function ruleReplacement(field: ImmutableField, path: ObjectPath): Replacement {
  const replacement = field.replacement ?? true
  if (isAtOrBelow(path, field.path)) {
    const except = field.except ?? []
    if (except.some((e) => isAtOrBelow(path, e))) return false
    // A change to a subtree that holds a mutable part may touch only that part.
    return except.some((e) => isAbove(path, e)) ? 'conditional' : replacement
  }
  // A change above the immutable field may or may not reach it.
  return isAbove(path, field.path) ? 'conditional' : false
}

const RANK = (r: Replacement): number => (r === true ? 3 : r === 'unknown' ? 2 : r === 'conditional' ? 1 : 0)

/**
 * Whether a change at `path` of a Kubernetes object (`['spec', 'selector']`; list indexes as
 * strings) can only be made by deleting and re-creating the object:
 * - `true` at or below an immutable field of a built-in kind (and for `metadata.name` and
 *   `metadata.namespace`, the object's identity);
 * - `'conditional'` where the server allows some changes of the field, and for a path above an
 *   immutable field (the change may or may not reach it);
 * - `false` for everything else.
 *
 * `object` is the object **before** the change (the base): the server decides by the stored
 * object, e.g. whether a ConfigMap is already `immutable: true`, and its `apiVersion` tells a
 * built-in `Service` from a custom one of the same kind (Knative's).
 *
 * Custom resources (kinds this registry does not know) get `false`: Flotilla applies them with
 * server-side apply, which changes them in place and never deletes them; immutability that a CRD
 * declares (`x-kubernetes-validations` with `self == oldSelf`) is enforced by the API server,
 * which rejects the change, so it fails loudly instead of destroying anything. Unlike an unknown
 * CloudFormation type, where CloudFormation itself may replace the resource, nothing is replaced
 * without Flotilla deciding to.
 */
export function kubernetesReplacement(kind: string, object: unknown, path: readonly string[]): Replacement {
  const obj: KubernetesObject = object !== null && typeof object === 'object' ? object : {}
  const fields = [...IDENTITY, ...(rulesFor(kind, obj)?.fields ?? [])]
  let result: Replacement = false
  for (const field of fields) {
    if (field.when && !field.when(obj)) continue
    const r = ruleReplacement(field, path)
    if (RANK(r) > RANK(result)) result = r
  }
  return result
}
