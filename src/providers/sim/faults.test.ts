import { describe, expect, it } from 'vitest'
import { InputError } from '../../core/errors.ts'
import { ProviderError } from '../../core/provider/port.ts'
import {
  extraLatencyMs,
  FAULT_DESCRIPTIONS,
  FAULT_KINDS,
  type Fault,
  failCallUnderFaults,
  faultsFor,
  hasFault,
  parseFaultKind,
  parseScope,
  scopeText,
} from './faults.ts'
import { objectReadyMs, stackOperationMs } from './latency.ts'

const NOW = new Date('2026-11-10T10:00:00Z')
const target = { id: '111111111111', regions: ['eu-central-1', 'eu-west-1'] }

function fault(overrides: Partial<Fault> & Pick<Fault, 'kind'>): Fault {
  return {
    id: `fault-${overrides.kind}`,
    scope: { kind: 'fleet' },
    rate: 1,
    latencyMs: 0,
    expiresAt: null,
    ...overrides,
  }
}

describe('fault scopes and kinds', () => {
  it('writes and parses every scope', () => {
    for (const scope of [
      { kind: 'fleet' },
      { kind: 'target', id: 'aws:1:eu-west-1:kube-1' },
      { kind: 'region', name: 'eu-west-1' },
    ] as const) {
      expect(parseScope(scopeText(scope))).toEqual(scope)
    }
    expect(scopeText({ kind: 'region', name: 'eu-west-1' })).toBe('region:eu-west-1')
    expect(() => parseScope('galaxy:far-away')).toThrow('unknown fault scope galaxy:far-away')
  })

  it('accepts the known kinds only, each described', () => {
    expect(parseFaultKind('stuck-stack')).toBe('stuck-stack')
    expect(() => parseFaultKind('meteor')).toThrow(InputError)
    expect(Object.keys(FAULT_DESCRIPTIONS).sort()).toEqual([...FAULT_KINDS].sort())
  })
})

describe('faultsFor', () => {
  it('keeps faults of the fleet, of the target and of its regions that have not expired', () => {
    const faults = [
      fault({ kind: 'latency', id: 'fleet' }),
      fault({ kind: 'latency', id: 'mine', scope: { kind: 'target', id: target.id } }),
      fault({ kind: 'latency', id: 'other', scope: { kind: 'target', id: '222222222222' } }),
      fault({ kind: 'latency', id: 'my-region', scope: { kind: 'region', name: 'eu-west-1' } }),
      fault({ kind: 'latency', id: 'far-region', scope: { kind: 'region', name: 'us-east-1' } }),
      fault({ kind: 'latency', id: 'expired', expiresAt: NOW }),
      fault({ kind: 'latency', id: 'expiring', expiresAt: new Date(NOW.getTime() + 1) }),
    ]
    expect(faultsFor(faults, target, NOW).map((f) => f.id)).toEqual([
      'fleet',
      'mine',
      'my-region',
      'expiring',
    ])
  })
})

describe('failCallUnderFaults', () => {
  const never = () => {
    throw new Error('random must not be drawn')
  }

  it('fails every call in a region that is out, as unavailable', () => {
    const outage = fault({ kind: 'region-outage', scope: { kind: 'region', name: 'eu-west-1' } })
    let thrown: unknown
    try {
      failCallUnderFaults([outage], target, NOW, never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ProviderError)
    expect(thrown).toMatchObject({ code: 'unavailable', retryable: true, target: target.id })
    expect((thrown as Error).message).toBe(
      'region eu-west-1 is unavailable (simulated outage fault-region-outage)',
    )
    expect(() =>
      failCallUnderFaults(
        [fault({ kind: 'region-outage', scope: { kind: 'region', name: 'us-east-1' } })],
        target,
        NOW,
        never,
      ),
    ).not.toThrow()
  })

  it('fails a share of calls at the rate of api-errors and throttling', () => {
    const apiErrors = fault({ kind: 'api-errors', rate: 0.3 })
    expect(() => failCallUnderFaults([apiErrors], target, NOW, () => 0.29)).toThrow(
      expect.objectContaining({ code: 'unavailable' }),
    )
    expect(() => failCallUnderFaults([apiErrors], target, NOW, () => 0.3)).not.toThrow()
    const throttling = fault({ kind: 'throttling', rate: 0.5 })
    expect(() => failCallUnderFaults([throttling], target, NOW, () => 0.1)).toThrow(
      expect.objectContaining({ code: 'throttled', retryable: true }),
    )
    expect(() =>
      failCallUnderFaults([fault({ kind: 'api-errors', rate: 0 })], target, NOW, () => 0),
    ).not.toThrow()
  })

  it('ignores expired faults and kinds that do not fail calls', () => {
    const faults = [
      fault({ kind: 'api-errors', expiresAt: new Date(NOW.getTime() - 1) }),
      fault({ kind: 'latency', latencyMs: 100 }),
      fault({ kind: 'stuck-stack' }),
      fault({ kind: 'resource-failure' }),
    ]
    expect(() => failCallUnderFaults(faults, target, NOW, never)).not.toThrow()
  })
})

describe('extraLatencyMs and hasFault', () => {
  it('adds the latency of every fault that applies', () => {
    const faults = [
      fault({ kind: 'latency', latencyMs: 100 }),
      fault({ kind: 'latency', latencyMs: 250, scope: { kind: 'region', name: 'eu-central-1' } }),
      fault({ kind: 'latency', latencyMs: 1000, scope: { kind: 'target', id: 'else' } }),
      fault({ kind: 'api-errors', latencyMs: 5000 }),
    ]
    expect(extraLatencyMs(faults, target, NOW)).toBe(350)
    expect(extraLatencyMs([], target, NOW)).toBe(0)
  })

  it('says whether a kind is on for a target', () => {
    const stuck = fault({ kind: 'stuck-stack', scope: { kind: 'target', id: target.id } })
    expect(hasFault([stuck], target, 'stuck-stack', NOW)).toBe(true)
    expect(hasFault([stuck], { id: 'else', regions: [] }, 'stuck-stack', NOW)).toBe(false)
    expect(hasFault([stuck], target, 'resource-failure', NOW)).toBe(false)
  })
})

describe('simulated latency', () => {
  it('takes the slowest resource of a stack operation plus a second, scaled', () => {
    expect(stackOperationMs([], 1)).toBe(1000)
    expect(stackOperationMs(['AWS::SNS::Topic'], 1)).toBe(1500)
    expect(
      stackOperationMs(
        ['AWS::SNS::Topic', 'AWS::Route53::HostedZone', 'AWS::CertificateManager::Certificate'],
        1,
      ),
    ).toBe(5000)
    expect(stackOperationMs(['AWS::EC2::NatGateway'], 0.5)).toBe(3000)
    expect(stackOperationMs(['AWS::ElastiCache::ReplicationGroup'], 0)).toBe(0)
  })

  it('makes workloads ready after their kind delay and everything else at once', () => {
    expect(objectReadyMs('Deployment', 1)).toBe(2000)
    expect(objectReadyMs('StatefulSet', 2)).toBe(8000)
    expect(objectReadyMs('ConfigMap', 1)).toBe(0)
    expect(objectReadyMs('DaemonSet', 0)).toBe(0)
  })
})
