import { describe, expect, test } from 'vitest'
import type { RenderedStack } from '../model/desired-state.ts'
import { checkMovedFrom, moveStatus } from './moved-from.ts'

const at = { file: 'stacks/dns.yaml', line: 4, col: 14 }

function stack(
  name: string,
  resources: Record<string, string>,
  movedFrom?: string,
  account = '111111111111',
): RenderedStack {
  return {
    address: `${account}/global/${name}`,
    stackName: name,
    region: 'eu-central-1',
    scope: 'global',
    source: 'stacks/dns.yaml',
    ...(movedFrom ? { movedFrom, movedFromAt: at } : {}),
    parameters: {},
    template: {
      Resources: Object.fromEntries(Object.entries(resources).map(([id, Type]) => [id, { Type }])),
    },
  }
}

const zone = { Zone: 'AWS::Route53::HostedZone' }
const index = (stacks: RenderedStack[]) => new Map(stacks.map((s) => [s.address, s]))

describe('moveStatus', () => {
  const next = stack('dns-zones', zone, 'zones')
  test.each([
    ['the old stack exists, the new one does not: moved', [stack('zones', zone)], 'moved'],
    ['both exist in the base: a conflict', [stack('zones', zone), stack('dns-zones', zone)], 'conflict'],
    ['only the new one exists: moved before', [stack('dns-zones', zone)], 'already'],
    ['neither exists: nothing', [], 'nothing'],
    ['no resource carries over: empty', [stack('zones', { Other: 'AWS::Route53::HostedZone' })], 'empty'],
    ['same logical id, another type: empty', [stack('zones', { Zone: 'AWS::S3::Bucket' })], 'empty'],
  ])('%s', (_name, base, status) => {
    expect(moveStatus(next, index(base), new Set([next.address]))).toBe(status)
  })

  test('the old stack still rendered in the head: a conflict', () => {
    const old = stack('zones', zone)
    expect(moveStatus(next, index([old]), new Set([next.address, old.address]))).toBe('conflict')
  })
})

describe('checkMovedFrom over the fleet', () => {
  const head = (movedFrom: string, accounts = ['111111111111', '222222222222']) =>
    new Map(accounts.map((a) => [a, [stack('dns-zones', zone, movedFrom, a)]]))
  const base = (stacks: (a: string) => RenderedStack[], accounts = ['111111111111', '222222222222']) =>
    new Map(accounts.map((a) => [a, stacks(a)]))

  test('a move in every account: no error', () => {
    expect(
      checkMovedFrom(
        base((a) => [stack('zones', zone, undefined, a)]),
        head('zones'),
      ),
    ).toEqual([])
  })

  test('a MovedFrom naming a stack that exists nowhere: an error at its line', () => {
    expect(
      checkMovedFrom(
        base(() => []),
        head('zonez'),
      ),
    ).toEqual([
      expect.objectContaining({
        ...at,
        severity: 'error',
        rule: 'moved-from',
        message: expect.stringContaining('moves nothing'),
      }),
    ])
  })

  test('a conflict in one account is an error even when the others move', () => {
    const errors = checkMovedFrom(
      new Map([
        ['111111111111', [stack('zones', zone, undefined, '111111111111')]],
        [
          '222222222222',
          [
            stack('zones', zone, undefined, '222222222222'),
            stack('dns-zones', zone, undefined, '222222222222'),
          ],
        ],
      ]),
      head('zones'),
    )
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/but both exist in 222222222222\/global\/dns-zones/),
    ])
  })

  test('a MovedFrom the base already had records an earlier move: inert, even where nothing is left to move', () => {
    expect(
      checkMovedFrom(
        base((a) => [stack('dns-zones', zone, 'zones', a)]),
        head('zones'),
      ),
    ).toEqual([])
    // A new account, where the stack is created: still history, not an error.
    const mixed = new Map([
      ['111111111111', [stack('dns-zones', zone, 'zones', '111111111111')]],
      ['222222222222', []],
    ])
    expect(checkMovedFrom(mixed, head('zones'))).toEqual([])
  })

  test('a MovedFrom added to a stack that exists: an error; against the observed fleet it may be history', () => {
    const existing = base((a) => [stack('dns-zones', zone, undefined, a)])
    expect(checkMovedFrom(existing, head('zones')).map((e) => e.message)).toEqual([
      expect.stringContaining('was added to stack "dns-zones", which already exists'),
    ])
    expect(checkMovedFrom(existing, head('zones'), true)).toEqual([])
    expect(
      checkMovedFrom(
        base(() => []),
        head('zones'),
        true,
      ),
    ).toEqual([])
  })
})
