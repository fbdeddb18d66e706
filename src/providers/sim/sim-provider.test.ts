import { describe, expect, it } from 'vitest'
import { loadFleet } from '../../core/load/load-fleet.ts'
import type { DesiredState, RenderedStack } from '../../core/model/desired-state.ts'
import type { Fleet, Target } from '../../core/model/fleet-model.ts'
import { memorySource } from '../../core/model/source.ts'
import { diffManifests } from '../../core/plan/diff-manifests.ts'
import { diffStacks } from '../../core/plan/diff-stacks.ts'
import { fleetState, planFleet, strictestSettings, targetPlanOf } from '../../core/plan/plan-fleet.ts'
import { protectedTypes } from '../../core/plan/protected.ts'
import { parseApproval } from '../../core/policy/approvals.ts'
import { policyRegistry } from '../../core/policy/policy-rules.ts'
import { operatorClock } from '../../core/policy/policy-time.ts'
import { fingerprintsOf, stackFingerprint } from '../../core/provider/fingerprint.ts'
import { type ApplyReport, ProviderError } from '../../core/provider/port.ts'
import { ProviderRegistry } from '../../core/provider/registry.ts'
import { generateExampleFleet } from '../../example/generate-example.ts'
import { type ApplyTargetOptions, applyTarget } from '../../operations/apply-target.ts'
import { observeFleet } from '../../operations/observed-fleet.ts'
import { testBackends, useTestStore } from '../../store/test-store.ts'
import { queryZones } from './dns-server.ts'
import { externalDnsOwner, loadBalancerAddress } from './external-dns.ts'
import { servicesOf } from './services.ts'
import { simDatabase } from './sim-database.ts'
import { SimProvider } from './sim-provider.ts'

/** What policies see as now: a Tuesday well before the example's Cyber Week freeze. */
const NOW = new Date('2026-11-10T10:00:00Z')

function loadExample(edit?: (files: Map<string, string>) => void): Fleet {
  const files = generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })
  edit?.(files)
  const result = loadFleet(memorySource(files))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/** The first active production account (not ops) with a cluster that has manifests. */
function shopAccount(fleet: Fleet): { account: Target; cluster: Target; shop: string } {
  for (const account of fleet.targets) {
    if (account.kind !== 'account' || account.environment !== 'production') continue
    if (account.group === 'ops' || account.lifecycle !== 'active') continue
    const cluster = fleet.targets.find(
      (t) =>
        t.kind === 'cluster' &&
        t.account === account.id &&
        (fleet.desired.get(t.id)?.manifests.length ?? 0) > 0,
    )
    if (cluster) return { account, cluster, shop: `shop.${String(cluster.config.ingress_domain)}` }
  }
  throw new Error('the example has no production account with a cluster')
}

function desiredOf(fleet: Fleet, target: Target): DesiredState {
  return fleet.desired.get(target.id) ?? { target, stacks: [], manifests: [] }
}

/** A clock the simulator reads; tests move it. */
class Clock {
  private at = NOW.getTime()
  readonly now = (): Date => new Date(this.at)
  advance(ms: number): void {
    this.at += ms
  }
}

/** The ingress load balancer address external-dns publishes for a cluster. */
function ingressAddress(cluster: Target): string {
  return loadBalancerAddress(cluster.id, 'ingress-nginx/ingress-nginx-controller')
}

describe.each(testBackends)('the simulated fleet on %s', (backend) => {
  const test = useTestStore(backend)
  const example = loadExample()
  const { account, cluster, shop } = shopAccount(example)
  const domain = String(account.config.dns_domain)
  const zoneAddress = `${account.id}/global/route53-hostedzones/HostedZone`

  async function freshSim(
    latencyScale = 0,
  ): Promise<{ sim: SimProvider; clock: Clock; registry: ProviderRegistry }> {
    const clock = new Clock()
    const sim = new SimProvider({ db: test.store.db, now: clock.now, random: () => 0.5 })
    await sim.reset()
    await sim.updateSettings({ latencyScale })
    return { sim, clock, registry: new ProviderRegistry([sim]) }
  }

  function applyOne(
    env: { registry: ProviderRegistry },
    fleet: Fleet,
    target: Target,
    extra: Partial<ApplyTargetOptions> = {},
  ) {
    return applyTarget({
      head: fleet,
      target,
      registry: env.registry,
      db: test.store.db,
      revision: 'rev-1',
      clock: operatorClock(NOW),
      actor: 'test',
      pollMs: 1,
      timeoutMs: 5_000,
      retry: { sleep: async () => {}, attempts: 3 },
      ...extra,
    })
  }

  /** What a reviewed plan of `desired` against the simulator's current state would hold for `target`. */
  async function reviewed(sim: SimProvider, target: Target, desired: DesiredState) {
    const observed = (await sim.observe([target])).get(target.id)!
    const isProtected = protectedTypes([])
    const changes =
      target.kind === 'account'
        ? diffStacks(observed.stacks, desired.stacks, isProtected)
        : diffManifests(observed.manifests, desired.manifests, isProtected)
    return targetPlanOf(target, null, changes)
  }

  /** Applies `desired` straight through the provider, with a plan reviewing exactly that change. */
  async function applyDirect(
    sim: SimProvider,
    target: Target,
    desired: DesiredState,
    approved: readonly string[] = [],
  ): Promise<ApplyReport> {
    return sim.apply({
      target,
      desired,
      plan: await reviewed(sim, target, desired),
      approvedDestruction: new Set(approved),
      revision: 'rev-1',
    })
  }

  /** Everything the simulator stores, to show that a refused call wrote nothing. */
  async function storedState() {
    const { db } = test.store
    return {
      stacks: await (await simDatabase(db))
        .selectFrom('sim_stacks')
        .select(['address', 'status', 'pending', 'template'])
        .orderBy('address')
        .execute(),
      zones: await (await simDatabase(db))
        .selectFrom('sim_zones')
        .select(['id', 'name', 'stack'])
        .orderBy('id')
        .execute(),
      records: await (await simDatabase(db))
        .selectFrom('sim_records')
        .select(['zone_id', 'name', 'type', 'values', 'owner'])
        .orderBy('zone_id')
        .orderBy('name')
        .orderBy('type')
        .execute(),
      objects: await (await simDatabase(db))
        .selectFrom('sim_objects')
        .select(['address', 'object'])
        .orderBy('address')
        .execute(),
      snapshots: await db.selectFrom('snapshots').select('id').execute(),
    }
  }

  async function stackStatuses(): Promise<Record<string, string>> {
    const rows = await (await simDatabase(test.store.db))
      .selectFrom('sim_stacks')
      .select(['address', 'status'])
      .orderBy('address')
      .execute()
    return Object.fromEntries(rows.map((row) => [row.address, row.status]))
  }

  function recordLines(sets: readonly { name: string; type: string; values: readonly string[] }[]): string[] {
    return sets.map((set) => `${set.name} ${set.type} ${set.values.join(',')}`).sort()
  }

  it('applies every target of the example, after which the observed fleet plans no changes', async () => {
    const env = await freshSim()
    expect(await env.sim.seed(example.targets)).toBe(example.targets.length)
    expect(await env.sim.seed(example.targets)).toBe(0) // known targets are refreshed, not new

    const outcomes: Record<string, number> = {}
    for (const target of example.targets) {
      const result = await applyOne(env, example, target)
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1
      if (result.outcome === 'failed' || result.outcome === 'blocked') throw new Error(result.reason)
    }
    const empty = example.targets.filter((t) => {
      const desired = desiredOf(example, t)
      return desired.stacks.length === 0 && desired.manifests.length === 0
    })
    expect(outcomes).toEqual({ applied: example.targets.length - empty.length, 'no-changes': empty.length })

    const observed = await observeFleet(example, env.registry, test.store.db)
    const outcome = planFleet({
      base: observed.state,
      head: fleetState(example),
      ...strictestSettings(example.settings, example.settings),
      rules: policyRegistry(example),
      now: NOW,
    })
    if (!outcome.ok) throw new Error('the plan is invalid')
    expect(outcome.plan.verdict).toBe('no-changes')
    expect(outcome.plan.targets).toEqual([])
    expect(observed.state.drift?.size ?? 0).toBe(0)

    const desired = example.targets.map((t) => desiredOf(example, t))
    const stackCount = desired.reduce((n, d) => n + d.stacks.length, 0)
    const objectCount = desired.reduce((n, d) => n + d.manifests.length, 0)
    const zoneStacks = desired.flatMap((d) => d.stacks).filter((s) => s.stackName === 'route53-hostedzones')
    const accountsWithZone = new Set(zoneStacks.map((s) => s.address.split('/')[0]))
    const publishing = example.targets.filter(
      (t) =>
        t.kind === 'cluster' && accountsWithZone.has(t.account) && desiredOf(example, t).manifests.length > 0,
    )
    const clusters = example.targets.filter((t) => t.kind === 'cluster')
    const services = example.targets
      .filter((t) => t.kind === 'account')
      .flatMap((t) => servicesOf(t, clusters).map((s) => `${t.name}/${s.name}`))
    expect(services.length).toBeGreaterThan(3)

    const status = await env.sim.status()
    expect(status.targets).toEqual({ accounts: 20, clusters: clusters.length })
    expect(status.stacks).toEqual({ CREATE_COMPLETE: stackCount })
    expect(status.objects).toEqual({ total: objectCount, ready: objectCount })
    expect(status.zones).toBe(zoneStacks.length)
    // Each publishing cluster's ingress wildcard: an A record and its TXT ownership record.
    expect(status.records.externalDns).toBe(2 * publishing.length)
    // Every zone has its SOA and NS besides what external-dns wrote.
    expect(status.records.total).toBe(2 * zoneStacks.length + 2 * publishing.length)
    expect(status.services).toEqual({
      total: services.length,
      healthy: services.length,
      down: [],
      notDeployed: 0,
    })
    expect(status.faults).toEqual([])
    expect(status.snapshots).toBe(0)

    const zones = await env.sim.zones()
    expect(queryZones(zones, shop)).toEqual({ rcode: 'NOERROR', answers: [ingressAddress(cluster)] })
    const txt = queryZones(zones, `*.${String(cluster.config.ingress_domain)}`, 'TXT')
    expect(txt.answers).toEqual([
      `heritage=external-dns,external-dns/owner=${cluster.id},external-dns/resource=service/ingress-nginx/ingress-nginx-controller`,
    ])

    // Services are up in every production account whose cluster is applied.
    for (const target of example.targets) {
      if (target.kind !== 'account' || target.environment !== 'production') continue
      const mine = servicesOf(target, clusters)
      if (mine.length === 0) continue
      const health = await env.sim.health(target)
      for (const service of mine) {
        expect(health.checks.find((c) => c.name === `service ${service.name}`)).toMatchObject({
          healthy: true,
        })
      }
      expect(health.healthy).toBe(true)
    }
    const applied = await env.sim.settled(cluster)
    expect(applied).toEqual({ state: 'settled', items: [] })
    // A cluster is healthy when its objects are ready and the names external-dns publishes resolve.
    expect((await env.sim.health(cluster)).checks).toEqual([
      {
        name: 'objects',
        healthy: true,
        detail: `${desiredOf(example, cluster).manifests.length} objects ready`,
      },
      {
        name: `name *.${String(cluster.config.ingress_domain)}`,
        healthy: true,
        detail: `resolves to ${ingressAddress(cluster)}`,
      },
    ])
  })

  it('keeps stacks in progress until their operation settles, and refuses to change them meanwhile', async () => {
    const env = await freshSim(1)
    await env.sim.seed(example.targets)
    const desired = desiredOf(example, account)
    const addresses = desired.stacks.map((s) => s.address).sort()
    const report = await applyDirect(env.sim, account, desired)
    expect(report.operations).toEqual(
      desired.stacks.map((s) => ({ address: s.address, operation: 'create' })),
    )
    expect(Object.values(await stackStatuses())).toEqual(addresses.map(() => 'CREATE_IN_PROGRESS'))
    const during = (await env.sim.observe([account])).get(account.id)!
    expect(during.stacks).toEqual([]) // a stack being created holds nothing yet
    expect([...during.busy].sort()).toEqual(addresses)
    const settle = await env.sim.settled(account)
    expect(settle.state).toBe('in-progress')
    expect(settle.items.map((i) => i.status)).toEqual(addresses.map(() => 'CREATE_IN_PROGRESS'))

    const busy = await applyDirect(env.sim, account, desired).catch((error: unknown) => error)
    expect(busy).toBeInstanceOf(ProviderError)
    expect(busy).toMatchObject({ code: 'busy', retryable: true, target: account.id })
    expect(addresses).toContain((busy as ProviderError).address)

    // The zone stack's slowest resource is its certificate: (1 + 4) s at scale 1.
    const zoneStack = `${account.id}/global/route53-hostedzones`
    env.clock.advance(4_999)
    expect((await stackStatuses())[zoneStack]).toBe('CREATE_IN_PROGRESS')
    expect((await env.sim.observe([account])).get(account.id)!.busy).toContain(zoneStack)
    env.clock.advance(1)
    await env.sim.observe([account])
    expect((await stackStatuses())[zoneStack]).toBe('CREATE_COMPLETE')
    expect(queryZones(await env.sim.zones(), domain, 'SOA').rcode).toBe('NOERROR')

    env.clock.advance(60_000)
    const after = (await env.sim.observe([account])).get(account.id)!
    expect(after.busy).toEqual([])
    expect(fingerprintsOf(after)).toEqual(fingerprintsOf(desired))
    expect(await env.sim.settled(account)).toEqual({ state: 'settled', items: [] })
    expect(Object.values(await stackStatuses())).toEqual(addresses.map(() => 'CREATE_COMPLETE'))

    // Objects of a cluster become ready after their kind's delay (a Deployment: 2 s).
    await applyDirect(env.sim, cluster, desiredOf(example, cluster))
    const progressing = await env.sim.settled(cluster)
    expect(progressing.state).toBe('in-progress')
    expect(progressing.items.length).toBeGreaterThan(0)
    expect(progressing.items.every((i) => i.status === 'Progressing')).toBe(true)
    expect((await env.sim.observe([cluster])).get(cluster.id)!.busy.length).toBe(progressing.items.length)
    env.clock.advance(10_000)
    expect(await env.sim.settled(cluster)).toEqual({ state: 'settled', items: [] })
  })

  it('replaces a hosted zone only with an approval, snapshots every record first, and restores them', async () => {
    const env = await freshSim()
    await env.sim.seed(example.targets)
    for (const target of [account, cluster])
      expect((await applyOne(env, example, target)).outcome).toBe('applied')
    const before = await env.sim.zones()
    const recordsBefore = recordLines(before.recordSets(domain))
    expect(recordsBefore.filter((line) => line.includes(String(cluster.config.ingress_domain)))).toHaveLength(
      2,
    )
    expect(queryZones(before, shop).rcode).toBe('NOERROR')

    const newDomain = domain.replace('.example.org', '-v2.example.org')
    const changed = loadExample((files) => {
      let edits = 0
      for (const [path, text] of files) {
        if (!path.startsWith('inventory/accounts/')) continue
        const next = text.replace(`dns_domain: ${domain},`, `dns_domain: ${newDomain},`)
        if (next !== text) edits++
        files.set(path, next)
      }
      expect(edits).toBe(1)
    })
    const changedAccount = changed.targets.find((t) => t.id === account.id)!
    await env.sim.seed(changed.targets)

    // Through the port: the plan reviewed the replacement, but nobody approved it.
    const untouched = await storedState()
    const refused = await applyDirect(env.sim, changedAccount, desiredOf(changed, changedAccount)).catch(
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(ProviderError)
    expect(refused).toMatchObject({ code: 'refused', retryable: false })
    expect((refused as ProviderError).address).toMatch(/\/route53-hostedzones\/(HostedZone|Certificate)$/)
    expect(await storedState()).toEqual(untouched)

    // Through applyTarget: blocked by the plan's required approvals, nothing applied.
    const blocked = await applyOne(env, changed, changedAccount)
    expect(blocked.outcome).toBe('blocked')
    expect(blocked.plan.approvalsRequired).toContain(zoneAddress)
    expect(await storedState()).toEqual(untouched)

    const events: string[] = []
    const applied = await applyOne(env, changed, changedAccount, {
      approvals: blocked.plan.approvalsRequired.map(parseApproval),
      onEvent: (event) => events.push(`${event.address} ${event.status}`),
    })
    expect(applied.outcome).toBe('applied')
    expect(applied.report?.snapshots).toHaveLength(1)
    const snapshot = applied.report!.snapshots[0]!
    expect(snapshot).toMatchObject({
      provider: 'sim',
      target: account.id,
      address: zoneAddress,
      type: 'AWS::Route53::HostedZone',
    })
    expect(snapshot.description).toBe(
      `zone ${domain}. with 2 record sets besides SOA and NS (2 written by external-dns)`,
    )
    expect(events).toContain(`${zoneAddress} snapshot-taken`)
    expect(await env.sim.snapshots()).toEqual([snapshot])

    const stored = await test.store.db
      .selectFrom('snapshots')
      .select('content')
      .where('id', '=', snapshot.id)
      .executeTakeFirstOrThrow()
    const content = stored.content as unknown as {
      zone: { name: string; account: string }
      records: { name: string; type: string; values: string[]; owner: string }[]
    }
    expect(content.zone).toMatchObject({ name: `${domain}.`, account: account.id })
    expect(recordLines(content.records)).toEqual(recordsBefore)
    expect(content.records.filter((r) => r.owner === externalDnsOwner(cluster.id))).toHaveLength(2)

    // The old zone and everything in it are gone; the new one answers.
    const replaced = await env.sim.zones()
    expect(queryZones(replaced, shop)).toEqual({ rcode: 'REFUSED', answers: [] })
    expect(queryZones(replaced, domain, 'SOA').rcode).toBe('REFUSED')
    expect(queryZones(replaced, newDomain, 'SOA').rcode).toBe('NOERROR')
    const health = await env.sim.health(changedAccount)
    expect(health.healthy).toBe(false)
    expect(health.checks.find((c) => c.name === 'service shop')).toEqual({
      name: 'service shop',
      healthy: false,
      detail: `${shop} does not resolve (REFUSED)`,
    })
    expect((await env.sim.status()).services.down).toContain(`${account.name}/shop`)

    const restored = await env.sim.restore(snapshot.id)
    expect(restored.snapshot.id).toBe(snapshot.id)
    expect(restored.description).toBe(
      `zone ${domain}. in account ${account.id} with 2 record sets (besides SOA and NS)`,
    )
    const after = await env.sim.zones()
    expect(recordLines(after.recordSets(domain))).toEqual(recordsBefore)
    expect(queryZones(after, shop)).toEqual({ rcode: 'NOERROR', answers: [ingressAddress(cluster)] })
    expect(queryZones(after, newDomain, 'SOA').rcode).toBe('NOERROR')
    expect((await env.sim.health(changedAccount)).healthy).toBe(true)
    expect((await env.sim.status()).services.down).not.toContain(`${account.name}/shop`)
    await expect(env.sim.restore('snap-missing')).rejects.toThrow(/does not exist/)
  })

  /** A hand-written stack: a hosted zone (optionally retained), a record set in it, and a topic. */
  function zoneStack(
    target: Target,
    options: { zone: boolean; retain?: boolean; name?: string },
  ): RenderedStack {
    const name = options.name ?? 'retain.example.org'
    return {
      address: `${target.id}/global/zone-retain`,
      stackName: 'zone-retain',
      region: target.regions[0]!,
      scope: 'global',
      source: 'stacks/zone-retain.yaml',
      parameters: { DomainName: name },
      template: {
        Parameters: { DomainName: { Type: 'String' } },
        Resources: {
          ...(options.zone
            ? {
                Zone: {
                  Type: 'AWS::Route53::HostedZone',
                  ...(options.retain ? { DeletionPolicy: 'Retain' } : {}),
                  Properties: { Name: { 'Fn::Sub': '${DomainName}.' } },
                },
                Www: {
                  Type: 'AWS::Route53::RecordSet',
                  ...(options.retain ? { DeletionPolicy: 'Retain' } : {}),
                  Properties: {
                    HostedZoneId: { Ref: 'Zone' },
                    Name: { 'Fn::Sub': 'www.${DomainName}.' },
                    Type: 'A',
                    TTL: 60,
                    ResourceRecords: ['192.0.2.7'],
                  },
                },
              }
            : {}),
          Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alerts' } },
        },
      },
    }
  }

  const bare = (target: Target, stacks: RenderedStack[]): DesiredState => ({ target, stacks, manifests: [] })

  it('keeps a hosted zone with DeletionPolicy Retain when its resource is removed, and adopts it again', async () => {
    const env = await freshSim()
    const target = account
    await applyDirect(env.sim, target, bare(target, [zoneStack(target, { zone: true, retain: true })]))
    const zoneId = (
      await (
        await simDatabase(test.store.db)
      )
        .selectFrom('sim_zones')
        .select('id')
        .where('name', '=', 'retain.example.org.')
        .execute()
    ).map((z) => z.id)
    expect(zoneId).toHaveLength(1)
    expect(queryZones(await env.sim.zones(), 'www.retain.example.org').answers).toEqual(['192.0.2.7'])

    // Removing a retained zone destroys nothing, so it needs no approval.
    const report = await applyDirect(env.sim, target, bare(target, [zoneStack(target, { zone: false })]))
    expect(report.operations).toEqual([{ address: `${target.id}/global/zone-retain`, operation: 'update' }])
    expect(report.snapshots).toEqual([])
    const zones = await (await simDatabase(test.store.db)).selectFrom('sim_zones').selectAll().execute()
    expect(zones.map((z) => [z.id, z.name, z.stack, z.logical_id])).toEqual([
      [zoneId[0], 'retain.example.org.', null, null],
    ])
    expect(queryZones(await env.sim.zones(), 'www.retain.example.org').answers).toEqual(['192.0.2.7'])
    const observed = (await env.sim.observe([target])).get(target.id)!
    expect(Object.keys((observed.stacks[0]!.template as { Resources: object }).Resources)).toEqual(['Topic'])
    const events = await (await simDatabase(test.store.db))
      .selectFrom('sim_stack_events')
      .select(['logical_id', 'status', 'reason'])
      .where('status', '=', 'DELETE_SKIPPED')
      .orderBy('logical_id')
      .execute()
    expect(events).toEqual([
      { logical_id: 'Www', status: 'DELETE_SKIPPED', reason: 'DeletionPolicy: Retain' },
      { logical_id: 'Zone', status: 'DELETE_SKIPPED', reason: 'DeletionPolicy: Retain' },
    ])

    // Declaring it again adopts the retained zone with its records, as a resource import would.
    await applyDirect(env.sim, target, bare(target, [zoneStack(target, { zone: true, retain: true })]))
    const adopted = await (await simDatabase(test.store.db)).selectFrom('sim_zones').selectAll().execute()
    expect(adopted.map((z) => [z.id, z.stack, z.logical_id])).toEqual([
      [zoneId[0], `${target.id}/global/zone-retain`, 'Zone'],
    ])
  })

  it('refuses to remove a zone without Retain unless approved, and then deletes it', async () => {
    const env = await freshSim()
    const target = account
    await applyDirect(env.sim, target, bare(target, [zoneStack(target, { zone: true })]))
    const untouched = await storedState()
    const removal = bare(target, [zoneStack(target, { zone: false })])
    await expect(applyDirect(env.sim, target, removal)).rejects.toMatchObject({
      code: 'refused',
      address: `${target.id}/global/zone-retain/Zone`,
    })
    expect(await storedState()).toEqual(untouched)
    const report = await applyDirect(env.sim, target, removal, [`${target.id}/global/zone-retain/Zone`])
    expect(report.snapshots.map((s) => s.address)).toEqual([`${target.id}/global/zone-retain/Zone`])
    expect(await (await simDatabase(test.store.db)).selectFrom('sim_zones').select('id').execute()).toEqual(
      [],
    )
    expect(queryZones(await env.sim.zones(), 'www.retain.example.org').rcode).toBe('REFUSED')
  })

  it('moves a stack to its new name keeping its zone, and snapshots a zone it replaces on the way', async () => {
    const env = await freshSim()
    const target = account
    const original = zoneStack(target, { zone: true, name: 'moved.example.org' })
    await applyDirect(env.sim, target, bare(target, [original]))
    const [zone] = await (await simDatabase(test.store.db))
      .selectFrom('sim_zones')
      .select(['id', 'name'])
      .execute()

    // A pure move: the stack takes its new name, nothing is destroyed.
    const renamed: RenderedStack = {
      ...original,
      address: `${target.id}/global/zone-renamed`,
      stackName: 'zone-renamed',
      movedFrom: original.stackName,
    }
    const moved = await applyDirect(env.sim, target, bare(target, [renamed]))
    expect(moved.operations).toEqual([{ address: renamed.address, operation: 'move' }])
    expect(Object.keys(await stackStatuses())).toEqual([renamed.address])
    const kept = await (await simDatabase(test.store.db))
      .selectFrom('sim_zones')
      .select(['id', 'name', 'stack'])
      .execute()
    expect(kept).toEqual([{ ...zone, stack: renamed.address }])

    // A move that also renames the zone replaces it: the old zone is copied before it goes.
    const again: RenderedStack = {
      ...zoneStack(target, { zone: true, name: 'other.example.org' }),
      address: `${target.id}/global/zone-final`,
      stackName: 'zone-final',
      movedFrom: renamed.stackName,
    }
    await expect(applyDirect(env.sim, target, bare(target, [again]))).rejects.toMatchObject({
      code: 'refused',
      address: `${again.address}/Zone`,
    })
    const report = await applyDirect(env.sim, target, bare(target, [again]), [`${again.address}/Zone`])
    expect(report.operations).toEqual([
      { address: again.address, operation: 'move' },
      { address: again.address, operation: 'update' },
    ])
    expect(report.snapshots.map((s) => s.description)).toEqual([
      'zone moved.example.org. with 1 record sets besides SOA and NS (0 written by external-dns)',
    ])
    const zones = await env.sim.zones()
    expect(zones.zoneNames()).toEqual(['other.example.org.'])
    expect(queryZones(zones, 'www.other.example.org').answers).toEqual(['192.0.2.7'])
    await env.sim.restore(report.snapshots[0]!.id)
    expect(queryZones(await env.sim.zones(), 'www.moved.example.org').answers).toEqual(['192.0.2.7'])
  })

  it('deletes a stack only when the reviewed plan deletes it', async () => {
    const env = await freshSim()
    const target = account
    const topicOnly = zoneStack(target, { zone: false })
    const other: RenderedStack = { ...topicOnly, address: `${target.id}/global/other`, stackName: 'other' }
    await applyDirect(env.sim, target, bare(target, [topicOnly, other]))
    const untouched = await storedState()

    // The plan reviewed only an update of `other`: deleting zone-retain was never shown to anyone.
    const changedOther: RenderedStack = { ...other, template: { Description: 'changed', Resources: {} } }
    const plan = await reviewed(env.sim, target, bare(target, [changedOther]))
    const reviewedOnlyOther = {
      ...plan,
      changes: plan.changes.filter((c) => c.address.startsWith(other.address)),
    }
    const refused = await env.sim
      .apply({
        target,
        desired: bare(target, [changedOther]),
        plan: reviewedOnlyOther,
        approvedDestruction: new Set(),
        revision: 'rev-2',
      })
      .catch((error: unknown) => error)
    expect(refused).toMatchObject({ code: 'refused', address: topicOnly.address })
    expect((refused as Error).message).toMatch(/reviewed plan does not delete it/)
    expect(await storedState()).toEqual(untouched)
    // Without any plan, the same.
    await expect(
      env.sim.apply({
        target,
        desired: bare(target, [other]),
        plan: undefined,
        approvedDestruction: new Set(),
        revision: 'rev-2',
      }),
    ).rejects.toMatchObject({ code: 'refused' })

    const report = await applyDirect(env.sim, target, bare(target, [other]))
    expect(report.operations).toEqual([{ address: topicOnly.address, operation: 'delete' }])
    expect(Object.keys(await stackStatuses())).toEqual([other.address])
    expect((await env.sim.observe([target])).get(target.id)!.stacks.map((s) => s.address)).toEqual([
      other.address,
    ])
  })

  it('prunes cluster objects only when the reviewed plan deletes them, protected kinds only approved', async () => {
    const env = await freshSim()
    const desired = desiredOf(example, cluster)
    await applyDirect(env.sim, cluster, desired)
    const namespace = desired.manifests.find((m) => m.object.kind === 'Namespace')!
    const pruned: DesiredState = { ...desired, manifests: desired.manifests.filter((m) => m !== namespace) }
    const untouched = await storedState()
    await expect(
      env.sim.apply({
        target: cluster,
        desired: pruned,
        plan: undefined,
        approvedDestruction: new Set(),
        revision: 'r',
      }),
    ).rejects.toMatchObject({ code: 'refused', address: namespace.address })
    await expect(applyDirect(env.sim, cluster, pruned)).rejects.toMatchObject({
      code: 'refused',
      address: namespace.address,
    })
    expect(await storedState()).toEqual(untouched)
    const report = await applyDirect(env.sim, cluster, pruned, [namespace.address])
    expect(report.operations).toEqual([{ address: namespace.address, operation: 'delete' }])
    const observed = (await env.sim.observe([cluster])).get(cluster.id)!
    expect(observed.manifests.map((m) => m.address)).not.toContain(namespace.address)
    expect(observed.manifests).toHaveLength(desired.manifests.length - 1)
  })

  it('removes the records external-dns owns when the annotated service goes', async () => {
    const env = await freshSim()
    await applyDirect(env.sim, account, desiredOf(example, account))
    const desired = desiredOf(example, cluster)
    await applyDirect(env.sim, cluster, desired)
    expect(queryZones(await env.sim.zones(), shop).rcode).toBe('NOERROR')
    const service = desired.manifests.find((m) => m.address.endsWith('/Service/ingress-nginx-controller'))!
    const metadata = service.object.metadata as Record<string, unknown>
    const unannotated = {
      ...service,
      object: { ...service.object, metadata: { ...metadata, annotations: {} } },
    }
    await applyDirect(env.sim, cluster, {
      ...desired,
      manifests: desired.manifests.map((m) => (m === service ? unannotated : m)),
    })
    expect(queryZones(await env.sim.zones(), shop).rcode).toBe('NXDOMAIN')
    expect((await env.sim.status()).records.externalDns).toBe(0)
  })

  it('publishes records of a cluster applied before its zone once the zone appears', async () => {
    const env = await freshSim()
    await env.sim.seed(example.targets)
    await applyDirect(env.sim, cluster, desiredOf(example, cluster))
    expect(queryZones(await env.sim.zones(), shop).rcode).toBe('REFUSED')
    await applyDirect(env.sim, account, desiredOf(example, account))
    expect(queryZones(await env.sim.zones(), shop)).toEqual({
      rcode: 'NOERROR',
      answers: [ingressAddress(cluster)],
    })
  })

  it('applies a changed stack as an update in place, keeping the zone and its records', async () => {
    const env = await freshSim()
    await env.sim.seed(example.targets)
    await applyDirect(env.sim, account, desiredOf(example, account))
    await applyDirect(env.sim, cluster, desiredOf(example, cluster))
    const zonesBefore = await (await simDatabase(test.store.db))
      .selectFrom('sim_zones')
      .select(['id', 'name'])
      .execute()
    const desired = desiredOf(example, account)
    const stacks = desired.stacks.map((s) =>
      s.stackName === 'route53-hostedzones'
        ? { ...s, template: { ...(s.template as object), Description: 'Public hosted zone, edited' } }
        : s,
    )
    const report = await applyDirect(env.sim, account, { ...desired, stacks })
    expect(report.operations).toEqual([
      { address: `${account.id}/global/route53-hostedzones`, operation: 'update' },
    ])
    expect((await stackStatuses())[`${account.id}/global/route53-hostedzones`]).toBe('UPDATE_COMPLETE')
    expect(
      await (await simDatabase(test.store.db)).selectFrom('sim_zones').select(['id', 'name']).execute(),
    ).toEqual(zonesBefore)
    expect(queryZones(await env.sim.zones(), shop).rcode).toBe('NOERROR')
    const observed = (await env.sim.observe([account])).get(account.id)!
    const zone = observed.stacks.find((s) => s.stackName === 'route53-hostedzones')!
    expect(stackFingerprint(zone)).toBe(stackFingerprint(stacks.find((s) => s.stackName === zone.stackName)!))
    // Applying the same again changes nothing.
    expect((await applyDirect(env.sim, account, { ...desired, stacks })).operations).toEqual([])
  })

  it('refuses, as CloudFormation does, to replace a custom-named resource whose name stays: the update rolls back', async () => {
    const env = await freshSim()
    await env.sim.seed(example.targets)
    await applyDirect(env.sim, account, desiredOf(example, account))
    const desired = desiredOf(example, account)
    const logging = desired.stacks.find((s) => s.stackName === 'logging')!
    const address = `${account.id}/${logging.region}/logging`
    const withBucket = (properties: Record<string, unknown>) => {
      const template = logging.template as {
        Resources: Record<string, { Properties: Record<string, unknown> }>
      }
      const bucket = template.Resources.LogBucket!
      const next = {
        ...template,
        Resources: {
          ...template.Resources,
          LogBucket: { ...bucket, Properties: { ...bucket.Properties, ...properties } },
        },
      }
      return { ...desired, stacks: desired.stacks.map((s) => (s === logging ? { ...s, template: next } : s)) }
    }
    // ObjectLockEnabled replaces a bucket; its BucketName stays: two buckets would need one name.
    const locked = withBucket({ ObjectLockEnabled: true })
    await applyDirect(env.sim, account, locked, [`${address}/LogBucket`]).catch(() => {})
    expect((await stackStatuses())[address]).toBe('UPDATE_ROLLBACK_COMPLETE')
    const observed = (await env.sim.observe([account])).get(account.id)!
    const kept = observed.stacks.find((s) => s.stackName === 'logging')!.template as {
      Resources: { LogBucket: { Properties: Record<string, unknown> } }
    }
    expect(kept.Resources.LogBucket.Properties.ObjectLockEnabled).toBeUndefined()
    // Renamed in the same change, the replacement goes through.
    const bucketName = (
      logging.template as { Resources: { LogBucket: { Properties: { BucketName: string } } } }
    ).Resources.LogBucket.Properties.BucketName
    await applyDirect(
      env.sim,
      account,
      withBucket({ ObjectLockEnabled: true, BucketName: `${bucketName}-locked` }),
      [`${address}/LogBucket`],
    )
    expect((await stackStatuses())[address]).toBe('UPDATE_COMPLETE')
  })

  describe('faults', () => {
    const twoRegions = example.targets.find(
      (t) =>
        t.kind === 'account' &&
        t.regions.length > 1 &&
        servicesOf(
          t,
          example.targets.filter((c) => c.kind === 'cluster'),
        ).length > 0,
    )!
    const twoRegionCluster = example.targets.find((t) => t.kind === 'cluster' && t.account === twoRegions.id)!
    const onAccount = { kind: 'target', id: account.id } as const
    const routeStack = `${account.id}/global/route53-hostedzones`

    /** The example with the zone stack's description edited: an update of one stack, nothing destroyed. */
    const edited = loadExample((files) => {
      const path = 'stacks/route53-hostedzones.yaml'
      const text = files.get(path)!
      const next = text.replace(/^Description: (.*)$/m, 'Description: $1 (edited)')
      expect(next).not.toBe(text)
      files.set(path, next)
    })
    const editedAccount = edited.targets.find((t) => t.id === account.id)!

    it('fails every call under api-errors at rate 1 (retryable), changing nothing', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      const { fault } = await env.sim.addFault({ scope: onAccount, kind: 'api-errors' })
      expect(fault).toMatchObject({ kind: 'api-errors', rate: 1, latencyMs: 0, expiresAt: null })
      const before = await storedState()
      const error = await applyDirect(env.sim, account, desiredOf(example, account)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ code: 'unavailable', retryable: true, target: account.id })
      expect((error as Error).message).toContain(fault!.id)
      expect(await storedState()).toEqual(before)
      expect(before.stacks).toEqual([])
      // Another target is not affected by a fault scoped to this one.
      await applyDirect(env.sim, cluster, desiredOf(example, cluster))
      expect((await storedState()).objects).toHaveLength(desiredOf(example, cluster).manifests.length)
    })

    it('fails a share of calls under api-errors at a rate below 1', async () => {
      const draws = [0.2, 0.7]
      const clock = new Clock()
      const sim = new SimProvider({ db: test.store.db, now: clock.now, random: () => draws.shift() ?? 1 })
      await sim.reset()
      await sim.updateSettings({ latencyScale: 0 })
      await sim.addFault({ scope: { kind: 'fleet' }, kind: 'api-errors', rate: 0.5 })
      const desired = desiredOf(example, account)
      await expect(applyDirect(sim, account, desired)).rejects.toMatchObject({ code: 'unavailable' })
      const report = await applyDirect(sim, account, desired)
      expect(report.operations).toHaveLength(desired.stacks.length)
      expect(draws).toEqual([])
    })

    it('throttles calls under throttling', async () => {
      const env = await freshSim()
      await env.sim.addFault({ scope: { kind: 'fleet' }, kind: 'throttling' })
      const error = await applyDirect(env.sim, cluster, desiredOf(example, cluster)).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'throttled', retryable: true, target: cluster.id })
      expect((error as Error).message).toMatch(/^Throttling: Rate exceeded/)
      expect((await storedState()).objects).toEqual([])
    })

    it('takes a region down: calls fail, health names the region, services there are down', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      await applyDirect(env.sim, account, desiredOf(example, account))
      await applyDirect(env.sim, cluster, desiredOf(example, cluster))
      expect((await env.sim.health(account)).healthy).toBe(true)
      const region = account.regions[0]!
      await env.sim.addFault({ scope: { kind: 'region', name: region }, kind: 'region-outage' })

      const error = await applyDirect(env.sim, account, desiredOf(example, account)).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'unavailable', retryable: true })
      expect((error as Error).message).toContain(`region ${region} is unavailable`)
      await expect(applyDirect(env.sim, cluster, desiredOf(example, cluster))).rejects.toMatchObject({
        code: 'unavailable',
      })
      const health = await env.sim.health(account)
      expect(health.healthy).toBe(false)
      expect(health.checks).toContainEqual({
        name: 'region',
        healthy: false,
        detail: `region ${region} is down`,
      })
      expect(health.checks).toContainEqual({
        name: 'service shop',
        healthy: false,
        detail: `region ${region} is down`,
      })
      expect((await env.sim.status()).services.down).toContain(`${account.name}/shop`)
      expect(await env.sim.clearFaults({ scope: { kind: 'region', name: region } })).toBe(1)
      expect((await env.sim.health(account)).healthy).toBe(true)
    })

    it('keeps a service up when another region of its account is down', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      await applyDirect(env.sim, twoRegions, desiredOf(example, twoRegions))
      await applyDirect(env.sim, twoRegionCluster, desiredOf(example, twoRegionCluster))
      const [home, other] = twoRegions.regions as [string, string]
      expect(twoRegionCluster.regions).toEqual([home])
      await env.sim.addFault({ scope: { kind: 'region', name: other }, kind: 'region-outage' })
      const health = await env.sim.health(twoRegions)
      expect(health.checks).toContainEqual({
        name: 'region',
        healthy: false,
        detail: `region ${other} is down`,
      })
      const services = health.checks.filter((c) => c.name.startsWith('service '))
      expect(services.length).toBeGreaterThan(0)
      expect(services.every((c) => c.healthy)).toBe(true)
      expect((await env.sim.status()).services.down).toEqual(
        expect.not.arrayContaining([expect.stringMatching(new RegExp(`^${twoRegions.name}/`))]),
      )
    })

    it('never settles a stuck stack or cluster while the fault is on, and settles them once cleared', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      const { fault } = await env.sim.addFault({ scope: onAccount, kind: 'stuck-stack' })
      await env.sim.addFault({ scope: { kind: 'target', id: cluster.id }, kind: 'stuck-stack' })
      await applyDirect(env.sim, account, desiredOf(example, account))
      await applyDirect(env.sim, cluster, desiredOf(example, cluster))
      env.clock.advance(24 * 3_600_000)
      const stuck = await env.sim.settled(account)
      expect(stuck.state).toBe('in-progress')
      expect(new Set(stuck.items.map((i) => i.status))).toEqual(new Set(['CREATE_IN_PROGRESS']))
      expect((await env.sim.settled(cluster)).state).toBe('in-progress')
      expect((await env.sim.health(account)).healthy).toBe(false)

      expect(await env.sim.clearFaults({ id: fault!.id })).toBe(1)
      expect(await env.sim.settled(account)).toEqual({ state: 'settled', items: [] })
      expect((await env.sim.settled(cluster)).state).toBe('in-progress')
      expect(await env.sim.clearFaults()).toBe(1)
      expect(await env.sim.settled(cluster)).toEqual({ state: 'settled', items: [] })
    })

    it('rolls a failed create back to ROLLBACK_COMPLETE: nothing exists, settled says failed', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      const { fault } = await env.sim.addFault({ scope: onAccount, kind: 'resource-failure' })
      await applyDirect(env.sim, account, desiredOf(example, account))
      const statuses = await stackStatuses()
      expect(new Set(Object.values(statuses))).toEqual(new Set(['ROLLBACK_COMPLETE']))
      const settle = await env.sim.settled(account)
      expect(settle.state).toBe('failed')
      expect(settle.items[0]!.reason).toContain(`simulated failure" (fault ${fault!.id})`)
      expect((await env.sim.observe([account])).get(account.id)!.stacks).toEqual([])
      expect(await (await simDatabase(test.store.db)).selectFrom('sim_zones').select('id').execute()).toEqual(
        [],
      )

      // Once the fault is gone, applying again creates the stacks.
      await env.sim.clearFaults()
      await applyDirect(env.sim, account, desiredOf(example, account))
      expect(await env.sim.settled(account)).toEqual({ state: 'settled', items: [] })
    })

    it('deletes the empty stack a failed create left behind once it is no longer desired', async () => {
      const env = await freshSim()
      const kept = zoneStack(account, { zone: false })
      const failing: RenderedStack = {
        ...kept,
        address: `${account.id}/global/failing`,
        stackName: 'failing',
      }
      await applyDirect(env.sim, account, bare(account, [kept]))
      await env.sim.addFault({ scope: onAccount, kind: 'resource-failure' })
      await applyDirect(env.sim, account, bare(account, [kept, failing]))
      expect(await stackStatuses()).toEqual({
        [kept.address]: 'CREATE_COMPLETE',
        [failing.address]: 'ROLLBACK_COMPLETE',
      })
      expect((await env.sim.settled(account)).state).toBe('failed')
      await env.sim.clearFaults()

      // The stack is taken out of the repository: the plan shows nothing to delete (nothing
      // exists), and the account must not stay failed for ever.
      const plan = await reviewed(env.sim, account, bare(account, [kept]))
      expect(plan.changes).toEqual([])
      const report = await applyDirect(env.sim, account, bare(account, [kept]))
      expect(report.operations).toEqual([{ address: failing.address, operation: 'delete' }])
      expect(await stackStatuses()).toEqual({ [kept.address]: 'CREATE_COMPLETE' })
      expect(await env.sim.settled(account)).toEqual({ state: 'settled', items: [] })
      expect((await env.sim.health(account)).healthy).toBe(true)
    })

    it('rolls a failed update back: the old template stays, and the next plan shows the update again', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      expect((await applyOne(env, example, account)).outcome).toBe('applied')
      await env.sim.addFault({ scope: onAccount, kind: 'resource-failure' })
      const failed = await applyOne(env, edited, editedAccount)
      expect(failed.outcome).toBe('failed')
      expect(failed.reason).toContain(`${routeStack} UPDATE_ROLLBACK_COMPLETE`)
      expect(failed.settle?.state).toBe('failed')
      expect((await stackStatuses())[routeStack]).toBe('UPDATE_ROLLBACK_COMPLETE')

      const observed = (await env.sim.observe([account])).get(account.id)!
      expect(fingerprintsOf(observed)).toEqual(fingerprintsOf(desiredOf(example, account)))
      const replanned = await observeFleet(edited, env.registry, test.store.db, (t) => t.id === account.id)
      expect(replanned.state.drift?.size ?? 0).toBe(0) // the truth is the old template: no drift
      const plan = planFleet({
        base: replanned.state,
        head: fleetState(edited),
        ...strictestSettings(edited.settings, edited.settings),
        includeTarget: (t) => t.id === account.id,
        now: NOW,
      })
      if (!plan.ok) throw new Error('invalid plan')
      expect(plan.plan.targets.map((t) => t.changes.map((c) => `${c.action} ${c.address}`))).toEqual([
        [`update ${routeStack}`],
      ])

      await env.sim.clearFaults()
      const retried = await applyOne(env, edited, editedAccount)
      expect(retried.outcome).toBe('applied')
      expect((await stackStatuses())[routeStack]).toBe('UPDATE_COMPLETE')
    })

    it('delays settling by a latency fault', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      await env.sim.addFault({ scope: onAccount, kind: 'latency', latencyMs: 3_000 })
      await applyDirect(env.sim, account, desiredOf(example, account))
      expect((await env.sim.settled(account)).state).toBe('in-progress')
      env.clock.advance(2_999)
      expect((await env.sim.settled(account)).state).toBe('in-progress')
      env.clock.advance(1)
      expect(await env.sim.settled(account)).toEqual({ state: 'settled', items: [] })
    })

    it('ignores expired faults', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      const expiresAt = new Date(NOW.getTime() + 60_000)
      await env.sim.addFault({ scope: { kind: 'fleet' }, kind: 'api-errors', expiresAt })
      await env.sim.addFault({ scope: onAccount, kind: 'stuck-stack', expiresAt })
      expect(await env.sim.faults()).toHaveLength(2)
      await expect(applyDirect(env.sim, account, desiredOf(example, account))).rejects.toMatchObject({
        code: 'unavailable',
      })
      env.clock.advance(60_000)
      expect(await env.sim.faults()).toEqual([])
      expect((await env.sim.status()).faults).toEqual([])
      await applyDirect(env.sim, account, desiredOf(example, account))
      expect(await env.sim.settled(account)).toEqual({ state: 'settled', items: [] })
    })

    it('drifts one stack or object, which the observed fleet reports as drift', async () => {
      const env = await freshSim()
      await env.sim.seed(example.targets)
      for (const target of [account, cluster])
        expect((await applyOne(env, example, target)).outcome).toBe('applied')
      const include = (t: Target) => t.id === account.id || t.id === cluster.id
      expect((await observeFleet(example, env.registry, test.store.db, include)).state.drift?.size).toBe(0)

      const onStack = await env.sim.addFault({ scope: onAccount, kind: 'drift' }, example.targets)
      const onObject = await env.sim.addFault(
        { scope: { kind: 'target', id: cluster.id }, kind: 'drift' },
        example.targets,
      )
      expect(onStack.fault).toBeUndefined()
      expect(onStack.drifted?.startsWith(`${account.id}/`)).toBe(true)
      expect(onObject.drifted?.startsWith(`${cluster.id}/`)).toBe(true)
      expect(await env.sim.faults()).toEqual([]) // drift happens once; it is not kept

      const observed = await observeFleet(example, env.registry, test.store.db, include)
      expect(Object.fromEntries(observed.state.drift ?? [])).toEqual({
        [account.id]: { revision: 'rev-1', addresses: [onStack.drifted] },
        [cluster.id]: { revision: 'rev-1', addresses: [onObject.drifted] },
      })
      await expect(
        env.sim.addFault({ scope: { kind: 'fleet' }, kind: 'drift' }, example.targets),
      ).rejects.toThrow(/needs --target/)
      const empty = example.targets.find((t) => t.kind === 'account' && t.id !== account.id)!
      await expect(
        env.sim.addFault({ scope: { kind: 'target', id: empty.id }, kind: 'drift' }, example.targets),
      ).rejects.toThrow(/no deployed stack to drift/)
    })

    it('clears faults by id, by scope, or all', async () => {
      const env = await freshSim()
      const a = await env.sim.addFault({ scope: onAccount, kind: 'latency', latencyMs: 10 })
      await env.sim.addFault({ scope: onAccount, kind: 'throttling', rate: 0.1 })
      await env.sim.addFault({ scope: { kind: 'region', name: 'eu-west-1' }, kind: 'region-outage' })
      await env.sim.addFault({ scope: { kind: 'fleet' }, kind: 'api-errors', rate: 0.01 })
      expect((await env.sim.faults()).map((f) => f.kind).sort()).toEqual([
        'api-errors',
        'latency',
        'region-outage',
        'throttling',
      ])
      expect(await env.sim.clearFaults({ id: a.fault!.id })).toBe(1)
      expect(await env.sim.clearFaults({ scope: onAccount })).toBe(1)
      expect(await env.sim.clearFaults({ id: 'fault-missing' })).toBe(0)
      expect(await env.sim.clearFaults()).toBe(2)
      expect(await env.sim.faults()).toEqual([])
    })
  })
})
