/**
 * Monitoring components: node and cluster-state metrics, the metrics API, and alerting rules.
 * Alerting rules are Prometheus templates (`{{ $labels.instance }}`); the examples show both
 * ways to keep them from Flotilla's own `{{ }}`: the `{{ '{{' }}` escape, and `interpolate: false`.
 */

/** `cluster/manifests/monitoring-agent/`: node-exporter on every node, and the node alerts of this cluster. */
export const MONITORING_AGENT: Readonly<Record<string, string>> = {
  'node-exporter.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: node-exporter
  namespace: monitoring
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
  namespace: monitoring
  labels: { app.kubernetes.io/name: node-exporter }
spec:
  selector:
    matchLabels: { app.kubernetes.io/name: node-exporter }
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 10% }
  template:
    metadata:
      labels:
        app.kubernetes.io/name: node-exporter
        cluster: "{{ cluster.alias }}"
        region: "{{ region }}"
    spec:
      serviceAccountName: node-exporter
      priorityClassName: platform-critical
      hostNetwork: true
      hostPID: true
      tolerations:
        - operator: Exists            # every node, whatever its taints
      containers:
        - name: node-exporter
          image: "quay.io/prometheus/node-exporter:{{ config.node_exporter_version }}"
          args:
            - --path.rootfs=/host
            - --web.listen-address=:9100
            - --collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+)($|/)
          ports:
            - { name: metrics, containerPort: 9100, protocol: TCP }
          resources:
            requests: { cpu: 50m, memory: 64Mi }
            limits: { memory: 128Mi }
          volumeMounts:
            - { name: root, mountPath: /host, readOnly: true, mountPropagation: HostToContainer }
      volumes:
        - name: root
          hostPath: { path: / }
---
apiVersion: v1
kind: Service
metadata:
  name: node-exporter
  namespace: monitoring
  annotations:
    prometheus.io/scrape: "true"
spec:
  clusterIP: None
  selector: { app.kubernetes.io/name: node-exporter }
  ports:
    - { name: metrics, port: 9100, targetPort: metrics }
`,
  'node-alerts.yaml': `# Alert rules with this cluster's name filled in by Flotilla. Prometheus's own {{ }} is
# written {{ '{{' }} so that Flotilla leaves a literal "{{" in its place.
apiVersion: v1
kind: ConfigMap
metadata:
  name: node-alerts
  namespace: monitoring
  labels: { prometheus-rules: "true" }
data:
  node-alerts.yaml: |
    groups:
      - name: node
        rules:
          - alert: NodeFilesystemAlmostFull
            expr: node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes < 0.10
            for: 15m
            labels:
              severity: warning
              cluster: {{ cluster.alias }}
            annotations:
              summary: "Node {{ '{{' }} $labels.instance }} in {{ cluster.alias }} has less than 10% disk left"
          - alert: NodeNotReady
            expr: kube_node_status_condition{condition="Ready",status="true"} == 0
            for: 10m
            labels:
              severity: critical
              cluster: {{ cluster.alias }}
              team: {{ cluster.team }}
            annotations:
              summary: "Node {{ '{{' }} $labels.node }} in {{ cluster.alias }} ({{ region }}) is not ready"
`,
}

/** `cluster/manifests/kube-state-metrics/`: metrics about Kubernetes objects. */
export const KUBE_STATE_METRICS: Readonly<Record<string, string>> = {
  'kube-state-metrics.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: kube-state-metrics
  namespace: monitoring
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kube-state-metrics
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets, nodes, pods, services, serviceaccounts, resourcequotas,
      replicationcontrollers, limitranges, persistentvolumeclaims, persistentvolumes, namespaces, endpoints]
    verbs: [list, watch]
  - apiGroups: [apps]
    resources: [statefulsets, daemonsets, deployments, replicasets]
    verbs: [list, watch]
  - apiGroups: [batch]
    resources: [cronjobs, jobs]
    verbs: [list, watch]
  - apiGroups: [autoscaling]
    resources: [horizontalpodautoscalers]
    verbs: [list, watch]
  - apiGroups: [policy]
    resources: [poddisruptionbudgets]
    verbs: [list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses, networkpolicies]
    verbs: [list, watch]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses, volumeattachments]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kube-state-metrics
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kube-state-metrics }
subjects:
  - { kind: ServiceAccount, name: kube-state-metrics, namespace: monitoring }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kube-state-metrics
  namespace: monitoring
  labels: { app.kubernetes.io/name: kube-state-metrics }
spec:
  replicas: 1
  selector:
    matchLabels: { app.kubernetes.io/name: kube-state-metrics }
  template:
    metadata:
      labels: { app.kubernetes.io/name: kube-state-metrics }
    spec:
      serviceAccountName: kube-state-metrics
      priorityClassName: platform-critical
      containers:
        - name: kube-state-metrics
          image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:{{ config.kube_state_metrics_version }}"
          args: ["--metric-labels-allowlist=pods=[app.kubernetes.io/name],namespaces=[team]"]
          ports:
            - { name: http-metrics, containerPort: 8080 }
            - { name: telemetry, containerPort: 8081 }
          readinessProbe:
            httpGet: { path: /readyz, port: 8081 }
          livenessProbe:
            httpGet: { path: /livez, port: 8080 }
          resources:
            requests: { cpu: 100m, memory: 150Mi }
            limits: { memory: 600Mi }
          securityContext:
            runAsNonRoot: true
            runAsUser: 65534
            readOnlyRootFilesystem: true
---
apiVersion: v1
kind: Service
metadata:
  name: kube-state-metrics
  namespace: monitoring
  annotations:
    prometheus.io/scrape: "true"
spec:
  selector: { app.kubernetes.io/name: kube-state-metrics }
  ports:
    - { name: http-metrics, port: 8080, targetPort: http-metrics }
`,
}

/** `cluster/manifests/metrics-server/`: the resource metrics API that `kubectl top` and autoscalers use. */
export const METRICS_SERVER: Readonly<Record<string, string>> = {
  'metrics-server.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: metrics-server
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregated-metrics-reader
  labels:
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
  - apiGroups: [metrics.k8s.io]
    resources: [pods, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:metrics-server
rules:
  - apiGroups: [""]
    resources: [nodes/metrics]
    verbs: [get]
  - apiGroups: [""]
    resources: [pods, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: metrics-server-auth-reader
  namespace: kube-system
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader }
subjects:
  - { kind: ServiceAccount, name: metrics-server, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: metrics-server:system:auth-delegator
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator }
subjects:
  - { kind: ServiceAccount, name: metrics-server, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:metrics-server
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:metrics-server }
subjects:
  - { kind: ServiceAccount, name: metrics-server, namespace: kube-system }
---
apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
  labels: { k8s-app: metrics-server }
spec:
  selector: { k8s-app: metrics-server }
  ports:
    - { name: https, port: 443, targetPort: https, protocol: TCP }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: metrics-server
  namespace: kube-system
  labels: { k8s-app: metrics-server }
spec:
  replicas: "{{ cluster.environment == 'production' ? 2 : 1 }}"
  selector:
    matchLabels: { k8s-app: metrics-server }
  template:
    metadata:
      labels: { k8s-app: metrics-server }
    spec:
      serviceAccountName: metrics-server
      priorityClassName: platform-critical
      containers:
        - name: metrics-server
          image: "registry.k8s.io/metrics-server/metrics-server:{{ config.metrics_server_version }}"
          args:
            - --cert-dir=/tmp
            - --secure-port=10250
            - --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
            - --kubelet-use-node-status-port
            - --metric-resolution=15s
          ports:
            - { name: https, containerPort: 10250, protocol: TCP }
          readinessProbe:
            httpGet: { path: /readyz, port: https, scheme: HTTPS }
          livenessProbe:
            httpGet: { path: /livez, port: https, scheme: HTTPS }
          resources:
            requests: { cpu: 100m, memory: 200Mi }
          securityContext:
            runAsNonRoot: true
            runAsUser: 1000
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
      volumes:
        - { name: tmp, emptyDir: {} }
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  labels: { k8s-app: metrics-server }
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: { name: metrics-server, namespace: kube-system }
`,
}

/** `cluster/manifests/prometheus-rules/`: fleet-wide alert rules, written in Prometheus's own templating. */
export const PROMETHEUS_RULES: Readonly<Record<string, string>> = {
  'component.yaml': `description: Fleet-wide alert rules and Alertmanager templates for every cluster's Prometheus
# These manifests are full of Prometheus and Go templates ({{ $labels.pod }}, {{ range }}):
# Flotilla leaves every {{ }} in them as written.
interpolate: false
`,
  'platform-alert-rules.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: platform-alert-rules
  namespace: monitoring
  labels: { prometheus-rules: "true" }
data:
  platform-alerts.yaml: |
    groups:
      - name: platform
        rules:
          - alert: CoreDNSErrors
            expr: sum(rate(coredns_dns_responses_total{rcode="SERVFAIL"}[5m])) / sum(rate(coredns_dns_responses_total[5m])) > 0.01
            for: 10m
            labels: { severity: critical }
            annotations:
              summary: "CoreDNS answers {{ $value | humanizePercentage }} of queries with SERVFAIL"
          - alert: PodCrashLooping
            expr: increase(kube_pod_container_status_restarts_total[15m]) > 3
            for: 15m
            labels: { severity: warning }
            annotations:
              summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value }} times in 15 minutes"
          - alert: IngressHighErrorRate
            expr: sum by (ingress) (rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum by (ingress) (rate(nginx_ingress_controller_requests[5m])) > 0.05
            for: 5m
            labels: { severity: critical }
            annotations:
              summary: "Ingress {{ $labels.ingress }} answers {{ $value | humanizePercentage }} of requests with 5xx"
          - alert: ExternalDNSNotSyncing
            expr: time() - external_dns_controller_last_sync_timestamp_seconds > 600
            for: 5m
            labels: { severity: critical }
            annotations:
              summary: "external-dns has not synced records for {{ $value | humanizeDuration }}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: alertmanager-templates
  namespace: monitoring
data:
  platform.tmpl: |
    {{ define "platform.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}
    {{ define "platform.text" }}
    {{ range .Alerts }}- {{ .Annotations.summary }} ({{ .Labels.cluster }})
    {{ end }}
    {{ end }}
`,
}
