import { describe, expect, test } from 'vitest'
import { KUBERNETES_IMMUTABLE_FIELDS, kubernetesReplacement } from './kubernetes.ts'

const apps = { apiVersion: 'apps/v1' }
const core = { apiVersion: 'v1' }

describe('kubernetesReplacement', () => {
  test.each([
    ['Deployment', apps, ['spec', 'selector'], true],
    ['Deployment', apps, ['spec', 'selector', 'matchLabels', 'app'], true],
    ['Deployment', apps, ['spec', 'replicas'], false],
    ['Deployment', apps, ['spec', 'template', 'spec', 'containers', '0', 'image'], false],
    ['Deployment', apps, ['metadata', 'labels', 'team'], false],
    ['DaemonSet', apps, ['spec', 'selector'], true],
    ['ReplicaSet', apps, ['spec', 'selector'], true],
    ['StatefulSet', apps, ['spec', 'volumeClaimTemplates', '0', 'spec', 'resources'], true],
    ['StatefulSet', apps, ['spec', 'serviceName'], true],
    ['StatefulSet', apps, ['spec', 'podManagementPolicy'], true],
    ['StatefulSet', apps, ['spec', 'selector'], true],
    ['StatefulSet', apps, ['spec', 'replicas'], false],
    ['StatefulSet', apps, ['spec', 'template', 'spec', 'containers', '0', 'image'], false],
    ['StatefulSet', apps, ['spec', 'updateStrategy', 'type'], false],
    ['Service', core, ['spec', 'clusterIP'], true],
    ['Service', core, ['spec', 'clusterIPs', '1'], 'conditional'],
    ['Service', core, ['spec', 'ipFamilies'], 'conditional'],
    ['Service', core, ['spec', 'ports', '0', 'port'], false],
    ['Service', { ...core, spec: { type: 'ExternalName' } }, ['spec', 'clusterIP'], false],
    ['Service', { ...core, spec: { type: 'LoadBalancer' } }, ['spec', 'loadBalancerClass'], true],
    ['PersistentVolumeClaim', core, ['spec', 'storageClassName'], true],
    ['PersistentVolumeClaim', core, ['spec', 'accessModes', '0'], true],
    ['PersistentVolumeClaim', core, ['spec', 'volumeName'], true],
    ['PersistentVolumeClaim', core, ['spec', 'volumeMode'], true],
    ['PersistentVolumeClaim', core, ['spec', 'selector'], true],
    ['PersistentVolumeClaim', core, ['spec', 'resources', 'requests', 'storage'], false],
    ['PersistentVolumeClaim', core, ['spec', 'resources', 'limits', 'storage'], true],
    ['PersistentVolumeClaim', core, ['spec', 'resources'], 'conditional'],
    ['PersistentVolume', core, ['spec', 'csi', 'volumeHandle'], true],
    ['PersistentVolume', core, ['spec', 'capacity', 'storage'], false],
    ['PersistentVolume', core, ['spec', 'persistentVolumeReclaimPolicy'], false],
    ['Job', { apiVersion: 'batch/v1' }, ['spec', 'template', 'spec', 'containers', '0', 'image'], true],
    ['Job', { apiVersion: 'batch/v1' }, ['spec', 'selector'], true],
    ['Job', { apiVersion: 'batch/v1' }, ['spec', 'completions'], true],
    [
      'Job',
      { apiVersion: 'batch/v1', spec: { completionMode: 'Indexed' } },
      ['spec', 'completions'],
      'conditional',
    ],
    ['Job', { apiVersion: 'batch/v1' }, ['spec', 'parallelism'], false],
    ['CronJob', { apiVersion: 'batch/v1' }, ['spec', 'jobTemplate', 'spec', 'template'], false],
    ['StorageClass', { apiVersion: 'storage.k8s.io/v1' }, ['parameters', 'type'], true],
    ['StorageClass', { apiVersion: 'storage.k8s.io/v1' }, ['provisioner'], true],
    ['StorageClass', { apiVersion: 'storage.k8s.io/v1' }, ['allowVolumeExpansion'], false],
    ['RoleBinding', { apiVersion: 'rbac.authorization.k8s.io/v1' }, ['roleRef', 'name'], true],
    ['ClusterRoleBinding', { apiVersion: 'rbac.authorization.k8s.io/v1' }, ['subjects', '0'], false],
    ['CustomResourceDefinition', { apiVersion: 'apiextensions.k8s.io/v1' }, ['spec', 'scope'], true],
    ['CustomResourceDefinition', { apiVersion: 'apiextensions.k8s.io/v1' }, ['spec', 'versions'], false],
    ['Ingress', { apiVersion: 'networking.k8s.io/v1' }, ['spec', 'rules'], false],
    ['PodDisruptionBudget', { apiVersion: 'policy/v1' }, ['spec', 'selector'], false],
    ['Namespace', core, ['metadata', 'labels'], false],
    ['Pod', core, ['spec', 'containers', '0', 'image'], false],
    ['Pod', core, ['spec', 'containers', '0', 'env'], true],
  ] as const)('%s %j at %j → %s', (kind, object, path, expected) => {
    expect(kubernetesReplacement(kind, object, path)).toBe(expected)
  })

  test('Secret and ConfigMap data is immutable only once the stored object says immutable: true', () => {
    expect(kubernetesReplacement('ConfigMap', core, ['data', 'key'])).toBe(false)
    expect(kubernetesReplacement('ConfigMap', { ...core, immutable: true }, ['data', 'key'])).toBe(true)
    expect(kubernetesReplacement('ConfigMap', { ...core, immutable: true }, ['binaryData'])).toBe(true)
    expect(kubernetesReplacement('ConfigMap', { ...core, immutable: true }, ['immutable'])).toBe(true)
    expect(kubernetesReplacement('ConfigMap', { ...core, immutable: true }, ['metadata', 'labels'])).toBe(
      false,
    )
    expect(kubernetesReplacement('Secret', core, ['stringData', 'password'])).toBe(false)
    expect(kubernetesReplacement('Secret', { ...core, immutable: true }, ['stringData', 'password'])).toBe(
      true,
    )
    expect(kubernetesReplacement('Secret', { ...core, immutable: true }, ['data'])).toBe(true)
    expect(kubernetesReplacement('Secret', core, ['type'])).toBe(true)
  })

  test('name and namespace are identity for every kind, custom ones too', () => {
    expect(kubernetesReplacement('ConfigMap', core, ['metadata', 'name'])).toBe(true)
    expect(
      kubernetesReplacement('Certificate', { apiVersion: 'cert-manager.io/v1' }, ['metadata', 'namespace']),
    ).toBe(true)
    expect(kubernetesReplacement('Deployment', apps, ['metadata'])).toBe('conditional')
  })

  test('a path above an immutable field may reach it', () => {
    expect(kubernetesReplacement('Deployment', apps, ['spec'])).toBe('conditional')
    expect(kubernetesReplacement('StatefulSet', apps, ['spec'])).toBe('conditional')
  })

  test('custom resources change in place, also when their kind is a built-in kind of another group', () => {
    expect(
      kubernetesReplacement('Certificate', { apiVersion: 'cert-manager.io/v1' }, ['spec', 'dnsNames']),
    ).toBe(false)
    expect(
      kubernetesReplacement('Service', { apiVersion: 'serving.knative.dev/v1' }, ['spec', 'clusterIP']),
    ).toBe(false)
  })

  test('without an apiVersion the built-in kind of that name is assumed; a non-object is no object', () => {
    expect(kubernetesReplacement('Deployment', {}, ['spec', 'selector'])).toBe(true)
    expect(kubernetesReplacement('Deployment', undefined, ['spec', 'selector'])).toBe(true)
    expect(kubernetesReplacement('ConfigMap', 'text', ['data'])).toBe(false)
  })

  test('the registry has each kind once, with at least one field each', () => {
    for (const [key, rules] of KUBERNETES_IMMUTABLE_FIELDS) {
      expect(key).toBe(`${rules.group}/${rules.kind}`)
      expect(rules.fields.length, key).toBeGreaterThan(0)
    }
    expect(KUBERNETES_IMMUTABLE_FIELDS.has('apps/StatefulSet')).toBe(true)
    expect(KUBERNETES_IMMUTABLE_FIELDS.has('/PersistentVolumeClaim')).toBe(true)
  })
})
