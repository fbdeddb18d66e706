import {
  KUBE_STATE_METRICS,
  METRICS_SERVER,
  MONITORING_AGENT,
  PROMETHEUS_RULES,
} from './components-monitoring.ts'
import { COREDNS, EXTERNAL_DNS, INGRESS_NGINX } from './components-networking.ts'

/**
 * The cluster components of the example (`cluster/manifests/<component>/`): what a platform team
 * runs in every cluster. Two are selected (`external-dns` needs a public zone,
 * `cluster-autoscaler` follows `config.autoscaling_enabled`), one sets `interpolate: false`
 * (`prometheus-rules`), and the others read cluster, account, config and region.
 */
export function componentFiles(): Map<string, string> {
  const files = new Map<string, string>()
  for (const [component, componentFilesByName] of Object.entries(COMPONENTS)) {
    for (const [name, text] of Object.entries(componentFilesByName)) {
      files.set(`cluster/manifests/${component}/${name}`, text)
    }
  }
  return files
}

const NAMESPACES: Readonly<Record<string, string>> = {
  'namespaces.yaml': `# Namespaces of the platform components, and one for the team that owns the cluster.
# Namespaces are protected: one that is no longer rendered is only deleted with an approval.
apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
  labels:
    app.kubernetes.io/managed-by: flotilla
    pod-security.kubernetes.io/enforce: privileged   # node-exporter reads the host
---
apiVersion: v1
kind: Namespace
metadata:
  name: ingress-nginx
  labels:
    app.kubernetes.io/managed-by: flotilla
    pod-security.kubernetes.io/enforce: baseline
---
apiVersion: v1
kind: Namespace
metadata:
  name: "{{ cluster.team }}"
  labels:
    app.kubernetes.io/managed-by: flotilla
    team: "{{ cluster.team }}"
    environment: "{{ cluster.environment }}"
    criticality: "{{ cluster.criticality }}"
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: LimitRange
metadata:
  name: container-defaults
  namespace: "{{ cluster.team }}"
spec:
  limits:
    - type: Container
      defaultRequest: { cpu: 100m, memory: 128Mi }
      default: { memory: 512Mi }
`,
}

const PRIORITY_CLASSES: Readonly<Record<string, string>> = {
  'priority-classes.yaml': `# Who is evicted first when a node runs short: batch jobs, then team workloads, never the
# platform components everything else needs (DNS, ingress, metrics).
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: platform-critical
value: 1000000
description: Platform components that every workload depends on
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: team-high
value: 10000
description: Latency-critical team workloads (checkout, payments)
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: team-default
value: 0
globalDefault: true
description: Default for team workloads
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: batch-low
value: -100
preemptionPolicy: Never
description: Batch jobs; they wait for capacity instead of evicting anything
`,
}

const DISRUPTION_BUDGETS: Readonly<Record<string, string>> = {
  'disruption-budgets.yaml': `# Node rotations during cluster updates drain nodes one by one; these budgets keep DNS and
# ingress serving while they do.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: coredns
  namespace: kube-system
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { k8s-app: kube-dns }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { app.kubernetes.io/name: ingress-nginx }
`,
}

const CLUSTER_AUTOSCALER: Readonly<Record<string, string>> = {
  'component.yaml': `description: Adds and removes nodes of the cluster's node pools as workloads need them
# Clusters that must keep a fixed size set autoscaling_enabled: false (inventory/clusters.yaml).
select: config.autoscaling_enabled
`,
  'cluster-autoscaler.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: cluster-autoscaler
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-autoscaler
rules:
  - apiGroups: [""]
    resources: [events, endpoints]
    verbs: [create, patch]
  - apiGroups: [""]
    resources: [pods/eviction]
    verbs: [create]
  - apiGroups: [""]
    resources: [pods/status]
    verbs: [update]
  - apiGroups: [""]
    resources: [nodes]
    verbs: [watch, list, get, update]
  - apiGroups: [""]
    resources: [namespaces, pods, services, replicationcontrollers, persistentvolumeclaims, persistentvolumes]
    verbs: [watch, list, get]
  - apiGroups: [apps]
    resources: [daemonsets, replicasets, statefulsets]
    verbs: [watch, list, get]
  - apiGroups: [batch]
    resources: [jobs, cronjobs]
    verbs: [watch, list, get]
  - apiGroups: [policy]
    resources: [poddisruptionbudgets]
    verbs: [watch, list]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses, csinodes, csidrivers, csistoragecapacities]
    verbs: [watch, list, get]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [create, get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cluster-autoscaler
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-autoscaler }
subjects:
  - { kind: ServiceAccount, name: cluster-autoscaler, namespace: kube-system }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cluster-autoscaler
  namespace: kube-system
  labels: { app.kubernetes.io/name: cluster-autoscaler }
spec:
  replicas: 1
  selector:
    matchLabels: { app.kubernetes.io/name: cluster-autoscaler }
  template:
    metadata:
      labels: { app.kubernetes.io/name: cluster-autoscaler }
    spec:
      serviceAccountName: cluster-autoscaler   # IAM role cluster-autoscaler, from stacks/iam-roles.yaml
      priorityClassName: platform-critical
      containers:
        - name: cluster-autoscaler
          # The autoscaler's minor version must match the cluster's Kubernetes minor version.
          image: "registry.k8s.io/autoscaling/cluster-autoscaler:v{{ cluster.kubernetesVersion }}.0"
          command:
            - ./cluster-autoscaler
            - --cloud-provider=aws
            - "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/{{ cluster.alias }}"
            - "--scale-down-unneeded-time={{ config.scale_down_unneeded_time }}"
            - --balance-similar-node-groups
            - --skip-nodes-with-system-pods=false
            - --expander=least-waste
            - "--v={{ config.log_level == 'debug' ? 4 : 2 }}"
          env:
            - { name: AWS_REGION, value: "{{ region }}" }
          resources:
            requests: { cpu: 100m, memory: 600Mi }
            limits: { memory: 1Gi }
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
`,
}

/** Every component, by directory name. */
const COMPONENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  namespaces: NAMESPACES,
  'priority-classes': PRIORITY_CLASSES,
  coredns: COREDNS,
  'external-dns': EXTERNAL_DNS,
  'ingress-nginx': INGRESS_NGINX,
  'monitoring-agent': MONITORING_AGENT,
  'kube-state-metrics': KUBE_STATE_METRICS,
  'metrics-server': METRICS_SERVER,
  'cluster-autoscaler': CLUSTER_AUTOSCALER,
  'disruption-budgets': DISRUPTION_BUDGETS,
  'prometheus-rules': PROMETHEUS_RULES,
}
