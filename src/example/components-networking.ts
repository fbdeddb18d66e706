/**
 * Networking components: cluster DNS, DNS records for services, and the ingress controller. They
 * are where the account's DNS zone meets the cluster, so they read `account.config.dns_domain`.
 */

/** `cluster/manifests/coredns/`: the cluster's DNS server, with the account's zone forwarded to the VPC resolver. */
export const COREDNS: Readonly<Record<string, string>> = {
  'coredns.yaml': `# Cluster DNS. Replicas come from cluster/config-defaults.yaml (more in production); a
# string that is exactly one {{ }} keeps the value's type, so replicas renders as a number.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: coredns
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: coredns
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: coredns
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: coredns }
subjects:
  - { kind: ServiceAccount, name: coredns, namespace: kube-system }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:53 {
        errors
        health {
            lameduck 5s
        }
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        prometheus :9153
        forward . /etc/resolv.conf
        cache 30
        loop
        reload
        loadbalance
    }
    # The account's own zone: answered by the VPC resolver, cached longer.
    {{ account.config.dns_domain }}:53 {
        errors
        cache 300
        forward . 169.254.169.253
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: { k8s-app: kube-dns }
spec:
  replicas: "{{ config.coredns_replicas }}"
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 1 }
  selector:
    matchLabels: { k8s-app: kube-dns }
  template:
    metadata:
      labels: { k8s-app: kube-dns }
    spec:
      serviceAccountName: coredns
      priorityClassName: platform-critical
      tolerations:
        - { key: CriticalAddonsOnly, operator: Exists }
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels: { k8s-app: kube-dns }
      containers:
        - name: coredns
          image: registry.k8s.io/coredns/coredns:v1.11.3
          args: ["-conf", /etc/coredns/Corefile]
          ports:
            - { name: dns, containerPort: 53, protocol: UDP }
            - { name: dns-tcp, containerPort: 53, protocol: TCP }
            - { name: metrics, containerPort: 9153, protocol: TCP }
          resources:
            requests: { cpu: 100m, memory: 70Mi }
            limits: { memory: 170Mi }
          livenessProbe:
            httpGet: { path: /health, port: 8080 }
            initialDelaySeconds: 60
          readinessProbe:
            httpGet: { path: /ready, port: 8181 }
          volumeMounts:
            - { name: config, mountPath: /etc/coredns, readOnly: true }
      volumes:
        - name: config
          configMap:
            name: coredns
            items: [{ key: Corefile, path: Corefile }]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: { k8s-app: kube-dns }
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: "9153"
spec:
  selector: { k8s-app: kube-dns }
  ports:
    - { name: dns, port: 53, protocol: UDP }
    - { name: dns-tcp, port: 53, protocol: TCP }
`,
}

/** `cluster/manifests/external-dns/`: writes the records of Services and Ingresses into the account's zone. */
export const EXTERNAL_DNS: Readonly<Record<string, string>> = {
  'component.yaml': `description: Publishes DNS records for Services and Ingresses into the account's public zone
# Test accounts have no public zone: stacks/route53-hostedzones.yaml selects environment != 'test'.
select: cluster.environment != 'test'
`,
  'external-dns.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: external-dns
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: external-dns
rules:
  - apiGroups: [""]
    resources: [services, endpoints, pods, nodes]
    verbs: [get, watch, list]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses]
    verbs: [get, watch, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: external-dns
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: external-dns }
subjects:
  - { kind: ServiceAccount, name: external-dns, namespace: kube-system }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: external-dns
  namespace: kube-system
  labels: { app.kubernetes.io/name: external-dns }
spec:
  replicas: 1
  strategy: { type: Recreate }
  selector:
    matchLabels: { app.kubernetes.io/name: external-dns }
  template:
    metadata:
      labels: { app.kubernetes.io/name: external-dns }
    spec:
      serviceAccountName: external-dns   # IAM role external-dns, from stacks/iam-roles.yaml
      priorityClassName: platform-critical
      containers:
        - name: external-dns
          image: "registry.k8s.io/external-dns/external-dns:{{ config.external_dns_version }}"
          args:
            - --source=service
            - --source=ingress
            - --provider=aws
            - --aws-zone-type=public
            - "--domain-filter={{ account.config.dns_domain }}"
            - --registry=txt
            - "--txt-owner-id={{ cluster.id }}"
            # upsert-only: external-dns never deletes records. A zone emptied by mistake is not
            # "cleaned up" any further, and records other owners wrote stay.
            - --policy=upsert-only
            - "--log-level={{ config.log_level }}"
          env:
            - { name: AWS_REGION, value: "{{ region }}" }
          resources:
            requests: { cpu: 50m, memory: 64Mi }
            limits: { memory: 128Mi }
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
`,
}

/** `cluster/manifests/ingress-nginx/`: the ingress controller behind one load balancer per cluster. */
export const INGRESS_NGINX: Readonly<Record<string, string>> = {
  'rbac.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ingress-nginx
  namespace: ingress-nginx
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ingress-nginx
rules:
  - apiGroups: [""]
    resources: [configmaps, endpoints, nodes, pods, secrets, namespaces, services]
    verbs: [list, watch, get]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses, ingressclasses]
    verbs: [get, list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [ingresses/status]
    verbs: [update]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch, get]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ingress-nginx
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ingress-nginx }
subjects:
  - { kind: ServiceAccount, name: ingress-nginx, namespace: ingress-nginx }
`,
  'controller.yaml': `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
data:
  use-forwarded-headers: "true"
  log-format-escape-json: "true"
  server-tokens: "false"
  proxy-body-size: 8m
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels: { app.kubernetes.io/name: ingress-nginx }
spec:
  replicas: "{{ config.ingress_replicas }}"
  selector:
    matchLabels: { app.kubernetes.io/name: ingress-nginx }
  template:
    metadata:
      labels: { app.kubernetes.io/name: ingress-nginx }
    spec:
      serviceAccountName: ingress-nginx
      priorityClassName: platform-critical
      terminationGracePeriodSeconds: 300
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels: { app.kubernetes.io/name: ingress-nginx }
      containers:
        - name: controller
          image: "registry.k8s.io/ingress-nginx/controller:{{ config.ingress_nginx_version }}"
          args:
            - /nginx-ingress-controller
            - --publish-service=$(POD_NAMESPACE)/ingress-nginx-controller
            - --election-id=ingress-nginx-leader
            - --controller-class=k8s.io/ingress-nginx
            - --ingress-class=nginx
            - --configmap=$(POD_NAMESPACE)/ingress-nginx-controller
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: POD_NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
          ports:
            - { name: http, containerPort: 80, protocol: TCP }
            - { name: https, containerPort: 443, protocol: TCP }
            - { name: metrics, containerPort: 10254, protocol: TCP }
          readinessProbe:
            httpGet: { path: /healthz, port: 10254 }
          livenessProbe:
            httpGet: { path: /healthz, port: 10254 }
            initialDelaySeconds: 10
          resources:
            requests: { cpu: 200m, memory: 256Mi }
            limits: { memory: 1Gi }
---
apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  annotations:
    # Access logs go to the account region's log bucket (stacks/logging.yaml).
    service.beta.kubernetes.io/aws-load-balancer-access-log-enabled: "true"
    service.beta.kubernetes.io/aws-load-balancer-access-log-emit-interval: "5"
    service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-name: "logs-{{ cluster.account }}-{{ region }}"
    service.beta.kubernetes.io/aws-load-balancer-access-log-s3-bucket-prefix: "elb/{{ cluster.alias }}"
    # external-dns (cluster/manifests/external-dns/) publishes this name in the account's zone.
    external-dns.alpha.kubernetes.io/hostname: "*.{{ config.ingress_domain }}"
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: { app.kubernetes.io/name: ingress-nginx }
  ports:
    - { name: http, port: 80, targetPort: http, protocol: TCP }
    - { name: https, port: 443, targetPort: https, protocol: TCP }
`,
}
