/**
 * Where `dns` gates look: the DNS servers the target's provider names (the simulated fleet's own
 * server), else the operator's, else the machine's resolvers — so a `dns` gate on a cloud target
 * never sees the simulated zones. Loopback DNS servers only; the machine's resolvers are never
 * asked here.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureSource } from '../../../test/support/fixture-fleet.ts'
import { loadFleet } from '../../core/load/load-fleet.ts'
import type { Fleet, Target } from '../../core/model/fleet-model.ts'
import type { GateEndpoints, Provider } from '../../core/provider/port.ts'
import { ProviderRegistry } from '../../core/provider/registry.ts'
import { type DnsServer, startDnsServer } from '../../providers/sim/dns-server.ts'
import { InMemoryZones } from '../../providers/sim/dns-zones.ts'
import type { Database } from '../../store/tables.ts'
import { openRunner } from '../runner.ts'
import type { ScheduledStage } from '../schedule.ts'
import { dnsServersFor } from './dns.ts'
import { runGate } from './run-gates.ts'

// The fixture fleet: 111111111111 is a production account whose dns_domain is teapot.example.org.
const PROD = '111111111111'
/** A name that exists only in the zones of the fake "simulated" DNS server of these tests. */
const ONLY_HERE = 'only-here.teapot.example.org'

function fixture(): Fleet {
  const rollout = `stages:
  - name: dev
    select: target.channel == 'dev'
  - name: ops
    select: target.group == 'ops'
  - name: stable
    select: target.channel == 'stable'
gates:
  dns: { type: dns, names: ['only-here.{{ config.dns_domain }}'], timeout: '2s' }
`
  const result = loadFleet(fixtureSource({ 'rollout.yaml': rollout }))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/** A provider named `name` whose targets' gates look where `endpoints` says (`undefined`: it has no opinion). */
function providerWith(name: string, endpoints: (() => Promise<GateEndpoints>) | undefined): Provider {
  const unused = () => Promise.reject(new Error('not used by dns gates'))
  return {
    name,
    observe: unused,
    apply: unused,
    settled: unused,
    health: unused,
    snapshots: unused,
    restore: unused,
    ...(endpoints ? { gateEndpoints: endpoints } : {}),
  }
}

describe('where dns gates look', () => {
  const fleet = fixture()
  const target = fleet.targets.find((t) => t.id === PROD) as Target
  const account = fleet.accounts.get(target.account)!
  let simulated: DnsServer
  let operators: DnsServer

  beforeAll(async () => {
    const zones = new InMemoryZones()
    zones.addZone('teapot.example.org')
    zones.upsertRecordSet('teapot.example.org', {
      name: ONLY_HERE,
      type: 'A',
      ttl: 60,
      values: ['192.0.2.7'],
    })
    simulated = await startDnsServer({ zones })
    // What the operator's resolvers know of: not the simulated zones.
    operators = await startDnsServer({ zones: new InMemoryZones() })
  })
  afterAll(async () => {
    await simulated?.close()
    await operators?.close()
  })

  const simLike = () => providerWith('sim', async () => ({ dnsServers: [simulated.address] }))
  const awsLike = () => providerWith('aws', async () => ({}))
  const dnsGate = (provider: Provider, dnsServers?: readonly string[]) =>
    runGate('dns', fleet.rollout.gates.dns!, target, account, fleet.settings, {
      provider,
      cwd: tmpdir(),
      ...(dnsServers ? { dnsServers } : {}),
    })

  it('asks the DNS servers the provider names, before any the operator configured', async () => {
    const result = await dnsGate(simLike(), [operators.address])
    expect(result.state).toBe('passed')
    expect(result.detail).toContain(`${ONLY_HERE} resolves to 192.0.2.7`)
  })

  it('on a target whose provider names none, asks the operator’s resolvers: the simulated zones are not seen', async () => {
    const result = await dnsGate(awsLike(), [operators.address])
    expect(result.state).toBe('failed')
    expect(result.detail).toContain(`not resolve at ${operators.address}`)
    expect(result.detail).not.toContain(simulated.address)
  })

  it('without an operator’s list, a provider naming none means the machine’s resolvers', async () => {
    expect(await dnsServersFor({ provider: awsLike() }, target)).toBeUndefined()
    expect(await dnsServersFor({ provider: providerWith('aws', undefined) }, target)).toBeUndefined()
    expect(
      await dnsServersFor({ provider: providerWith('aws', async () => ({ dnsServers: [] })) }, target),
    ).toBeUndefined()
    expect(await dnsServersFor({ provider: simLike() }, target)).toEqual([simulated.address])
  })

  it('fails closed when the provider cannot say where to look', async () => {
    const broken = providerWith('aws', () => Promise.reject(new Error('no credentials')))
    const result = await dnsGate(broken, [operators.address])
    expect(result.state).toBe('failed')
    expect(result.detail).toContain('the aws provider could not say which DNS servers to ask: no credentials')
  })

  describe('through the runner', () => {
    let repo: string
    beforeAll(() => {
      repo = mkdtempSync(join(tmpdir(), 'flotilla-dns-gates-'))
    })
    afterAll(() => rmSync(repo, { recursive: true, force: true }))

    const stage: ScheduledStage = {
      name: 'stable',
      maxParallel: 1,
      failureTolerance: 0,
      bakeMs: 0,
      onFailure: 'halt',
      approval: false,
      gates: ['dns'],
      waves: [[PROD]],
    }
    /** The gates of `stage` for the target, as the engine runs them, with `provider` as the target's. */
    async function throughRunner(provider: Provider, dnsServers?: readonly string[]) {
      const runner = await openRunner({
        repoDir: repo,
        // Not used by gates.
        db: {} as Kysely<Database>,
        // The fixture's targets choose the provider named `sim`: the fake stands in for it.
        registry: new ProviderRegistry([{ ...provider, name: 'sim' }]),
        ...(dnsServers ? { dnsServers } : {}),
      })
      try {
        return await runner.deps.runGates(stage, target, fleet)
      } finally {
        await runner.close()
      }
    }

    it('hands each target its provider’s endpoints: a simulated target resolves the name', async () => {
      const [result] = await throughRunner(simLike())
      expect(result?.state).toBe('passed')
    })

    it('and a target whose provider names none does not see the simulated zones', async () => {
      const [result] = await throughRunner(awsLike(), [operators.address])
      expect(result?.state).toBe('failed')
      expect(result?.detail).toContain(`not resolve at ${operators.address}`)
    })
  })
})
