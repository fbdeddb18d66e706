import { describe, expect, it } from 'vitest'
import {
  externalDnsOwner,
  externalDnsRecords,
  HOSTNAME_ANNOTATION,
  loadBalancerAddress,
} from './external-dns.ts'

const CLUSTER = 'aws:111111111111:eu-central-1:kube-1'

function service(name: string, type: string, hostnames?: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'ingress-nginx',
      ...(hostnames === undefined ? {} : { annotations: { [HOSTNAME_ANNOTATION]: hostnames } }),
    },
    spec: { type },
  }
}

function ingress(name: string, hosts: unknown[], namespace?: string): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { rules: hosts.map((host) => ({ host })) },
  }
}

describe('externalDnsRecords', () => {
  it('publishes an A record and its TXT ownership record for an annotated LoadBalancer Service', () => {
    const address = loadBalancerAddress(CLUSTER, 'ingress-nginx/controller')
    expect(
      externalDnsRecords(CLUSTER, [service('controller', 'LoadBalancer', '*.kube-1.Teapot.example.org')]),
    ).toEqual([
      { name: '*.kube-1.teapot.example.org.', type: 'A', ttl: 300, values: [address] },
      {
        name: '*.kube-1.teapot.example.org.',
        type: 'TXT',
        ttl: 300,
        values: [
          `heritage=external-dns,external-dns/owner=${CLUSTER},external-dns/resource=service/ingress-nginx/controller`,
        ],
      },
    ])
  })

  it('reads every comma-separated hostname of the annotation', () => {
    const records = externalDnsRecords(CLUSTER, [
      service('controller', 'LoadBalancer', 'b.teapot.example.org, a.teapot.example.org,,'),
    ])
    expect(records.map((r) => `${r.name} ${r.type}`)).toEqual([
      'a.teapot.example.org. A',
      'a.teapot.example.org. TXT',
      'b.teapot.example.org. A',
      'b.teapot.example.org. TXT',
    ])
  })

  it('ignores Services that are not load balancers or carry no hostname, and other kinds', () => {
    expect(
      externalDnsRecords(CLUSTER, [
        service('internal', 'ClusterIP', 'internal.teapot.example.org'),
        service('plain', 'LoadBalancer'),
        {
          kind: 'Deployment',
          metadata: { name: 'x', annotations: { [HOSTNAME_ANNOTATION]: 'x.example.org' } },
        },
        { kind: 'ConfigMap' },
      ]),
    ).toEqual([])
  })

  it('publishes the hosts of Ingress rules at the ingress address, in the default namespace unless given', () => {
    const address = loadBalancerAddress(CLUSTER, 'ingress')
    const records = externalDnsRecords(CLUSTER, [
      ingress('shop', ['shop.teapot.example.org', 42, undefined]),
      ingress('admin', ['admin.teapot.example.org'], 'admin'),
    ])
    expect(records).toEqual([
      { name: 'admin.teapot.example.org.', type: 'A', ttl: 300, values: [address] },
      {
        name: 'admin.teapot.example.org.',
        type: 'TXT',
        ttl: 300,
        values: [
          `heritage=external-dns,external-dns/owner=${CLUSTER},external-dns/resource=ingress/admin/admin`,
        ],
      },
      { name: 'shop.teapot.example.org.', type: 'A', ttl: 300, values: [address] },
      {
        name: 'shop.teapot.example.org.',
        type: 'TXT',
        ttl: 300,
        values: [
          `heritage=external-dns,external-dns/owner=${CLUSTER},external-dns/resource=ingress/default/shop`,
        ],
      },
    ])
  })

  it('gives each cluster its own stable documentation-range address and owner', () => {
    const a = loadBalancerAddress(CLUSTER, 'ingress')
    expect(a).toMatch(/^203\.0\.113\.(\d+)$/)
    const last = Number(a.split('.')[3])
    expect(last).toBeGreaterThanOrEqual(1)
    expect(last).toBeLessThanOrEqual(254)
    expect(loadBalancerAddress(CLUSTER, 'ingress')).toBe(a)
    const others = new Set(
      Array.from({ length: 20 }, (_, i) =>
        loadBalancerAddress(`aws:111111111111:eu-central-1:kube-${i}`, 'ingress'),
      ),
    )
    expect(others.size).toBeGreaterThan(10)
    expect(externalDnsOwner(CLUSTER)).toBe(`external-dns:${CLUSTER}`)
  })
})
