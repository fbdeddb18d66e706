/**
 * End-to-end tests of the commands of the simulated fleet — `apply`, `plan` against the observed
 * fleet, `snapshots`, `restore` and `sim status|fault|settings|serve` — on the example fleet, in
 * this process and as real processes (`node bin/flotilla.js`), on the embedded store and, when
 * `TEST_DATABASE_URL` is set, on PostgreSQL.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { afterEach, describe, expect, test } from 'vitest'
import { simServeCommand } from '../src/cli/commands/sim.ts'
import type { CliIo } from '../src/cli/io.ts'
import { FAULT_KINDS } from '../src/providers/sim/faults.ts'
import { testBackends } from '../src/store/test-store.ts'
import { commitAll } from './support/rollout-fleet.ts'
import {
  askA,
  NOW,
  pollUntil,
  replaceOnce,
  type SimFleet,
  shopAccount,
  simFleet,
  simStatus,
  within,
  withoutTimeRules,
} from './support/sim-cli.ts'

/** The states of a stack whose last operation succeeded. */
const COMPLETE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE'])

/** The last lines of a command's output, for failure messages (plans run long). */
const tail = (text: string, lines = 8) => text.trimEnd().split('\n').slice(-lines).join('\n')

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe.each(testBackends)('the simulated fleet from the command line, on %s', (backend) => {
  let opened: SimFleet[] = []
  const newFleet = async () => {
    const fleet = await simFleet(backend)
    opened.push(fleet)
    return fleet
  }
  afterEach(async () => {
    await Promise.all(opened.map((fleet) => fleet.dispose()))
    opened = []
  })

  test('apply: an account and its cluster, then up to date; a zone replacement waits for approvals, takes a snapshot, and restore brings the shop back', async () => {
    const sim = await newFleet()
    const { account, cluster, shopName } = shopAccount(sim.fleet)
    const domain = String(account.config.dns_domain)
    const stacks = sim.fleet.desired.get(account.id)!.stacks.map((stack) => stack.address)
    const objects = sim.fleet.desired.get(cluster.id)!.manifests.length
    expect((await sim.cli('sim', 'settings', '--latency-scale', '0')).stdout).toBe('latency scale: 0\n')

    const first = await sim.cli('apply', '--target', account.name)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(
      `Applied ${stacks.length} operations to ${account.id} (${account.name}).\nHealth: healthy\n`,
    )
    // The shop runs behind the cluster's ingress: until the cluster has objects it is not deployed,
    // and a new account is judged by its stacks and zones.
    expect(first.stdout).toContain(
      `ok   service shop: not deployed yet (cluster ${cluster.id} has nothing applied)`,
    )
    for (const stack of stacks) expect(first.stderr).toContain(`  ${stack}: create started\n`)
    // Applied on the store directly, from the working tree: it says which trust it used.
    expect(first.stderr).toMatch(
      /\njudged and applied as an operator of the local store; trusted branch main at [0-9a-f]{7} \(the working tree is not on it: it is not a commit\)\n$/,
    )

    const second = await sim.cli('apply', '--target', cluster.name)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(
      `Applied ${objects} operations to ${cluster.id} (${cluster.name}).\nHealth: healthy\n  ok   objects: ${objects} objects ready\n`,
    )
    const running = await simStatus(sim)
    expect(running.stacks).toEqual({ CREATE_COMPLETE: stacks.length })
    expect(running.services.down).not.toContain(`${account.name}/shop`)

    for (const target of [account, cluster]) {
      const again = await sim.cli('apply', '--target', target.id)
      expect(again).toEqual({
        code: 0,
        stdout: `${target.id} (${target.name}) is up to date: nothing to apply.\n`,
        stderr: '',
      })
    }

    // A new domain replaces the zone and its certificate: protected, and the account is tier-1.
    replaceOnce(sim.repo, account.at.file, `dns_domain: ${domain},`, `dns_domain: new-${domain},`)
    const zoneStack = `${account.id}/global/route53-hostedzones`
    const needed = [`${zoneStack}/Certificate`, `${zoneStack}/HostedZone`]
    const blocked = await sim.cli('apply', '--target', account.name)
    expect(blocked.code).toBe(3)
    expect(blocked.stdout).toContain(`Approvals required (2):\n  ${needed.join('\n  ')}\n`)
    expect(blocked.stdout).toContain(`Not applied: needs approvals not given: ${needed.join(', ')}\n`)
    expect(blocked.stderr).toBe('')
    const untouched = await simStatus(sim)
    expect(untouched).toMatchObject({
      stacks: running.stacks,
      zones: running.zones,
      snapshots: 0,
      services: running.services,
    })

    const approved = await sim.cli(
      'apply',
      '--target',
      account.name,
      ...needed.flatMap((address) => ['--approve', address]),
    )
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain(`Applied 1 operation to ${account.id} (${account.name}).`)
    const taken = /^Snapshot (snap-[\w-]+) taken of (\S+): zone (\S+) with/m.exec(approved.stdout)
    expect(taken?.slice(2)).toEqual([`${zoneStack}/HostedZone`, `${domain}.`])
    const snapshotId = taken![1]!
    // The old zone held the shop's record; the new one does not (the incident a snapshot undoes).
    expect(approved.stdout).toContain(`FAIL service shop: ${shopName} does not resolve (REFUSED)`)

    const listed = await sim.cli('snapshots', '--format', 'json')
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout).snapshots).toEqual([
      expect.objectContaining({
        id: snapshotId,
        provider: 'sim',
        target: account.id,
        address: `${zoneStack}/HostedZone`,
        type: 'AWS::Route53::HostedZone',
      }),
    ])

    const restored = await sim.cli('restore', snapshotId)
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.stdout).toContain(`Restored ${zoneStack}/HostedZone from ${snapshotId}: zone ${domain}.`)
    const healed = await simStatus(sim)
    expect(healed.services.down).not.toContain(`${account.name}/shop`)
    expect(healed.zones).toBe(running.zones + 1)

    const unknown = await sim.cli('restore', 'snap-20260101-000000')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('snapshot snap-20260101-000000 does not exist')
  })

  test('apply: an unknown target or a bad argument is a user error, before the store is opened', async () => {
    const sim = await newFleet()
    const { account } = shopAccount(sim.fleet)
    const typo = await sim.cli('apply', '--target', account.name.slice(0, -1))
    expect(typo.code).toBe(1)
    expect(typo.stderr).toContain(
      `no target "${account.name.slice(0, -1)}" in the fleet; did you mean "${account.name}"?`,
    )
    // Its policies see the clock: a time of the one applying is a usage error, whatever it says.
    for (const now of ['next tuesday', NOW]) {
      const badNow = await sim.cli('apply', '--target', account.name, '--now', now)
      expect(badNow.code).toBe(1)
      expect(badNow.stderr).toContain(
        `error: "flotilla apply" does not take --now: the policies of a change that is applied see this machine's clock`,
      )
      expect(badNow.stderr).toContain(`preview that time with "flotilla plan --now ${now}"`)
    }
    const badTimeout = await sim.cli('apply', '--target', account.name, '--timeout', '0')
    expect(badTimeout.code).toBe(1)
    expect(badTimeout.stderr).toContain('expected a number of seconds above 0')
    expect(existsSync(join(sim.repo, '.flotilla'))).toBe(false)
  })

  test('plan without --base: creates on an empty simulated fleet, nothing once applied, drift made outside Flotilla', async () => {
    const sim = await newFleet()
    const { account } = shopAccount(sim.fleet)
    const only = `target.id == '${account.id}'`

    const empty = await sim.cli('plan', '--format', 'json', '--now', NOW)
    expect(empty.code, empty.stderr).toBe(2)
    const everything = JSON.parse(empty.stdout)
    expect(everything).toMatchObject({ base: { kind: 'observed' }, verdict: 'allowed' })
    expect(everything.summary.actions).toMatchObject({ update: 0, replace: 0, delete: 0, move: 0 })
    expect(everything.summary.actions.create).toBeGreaterThan(0)
    const withContent = sim.fleet.targets.filter((t) => {
      const desired = sim.fleet.desired.get(t.id)
      return (desired?.stacks.length ?? 0) + (desired?.manifests.length ?? 0) > 0
    })
    expect(everything.summary.targetsChanged).toBe(withContent.length)
    expect(everything.findings.map((f: { rule: string }) => f.rule)).not.toContain('drift')

    await sim.cli('sim', 'settings', '--latency-scale', '0')
    expect((await sim.cli('apply', '--target', account.id)).code).toBe(0)
    const applied = await sim.cli('plan', '--format', 'json', '--now', NOW, '--target', only)
    expect(applied.code, applied.stdout).toBe(0)
    expect(JSON.parse(applied.stdout)).toMatchObject({ verdict: 'no-changes', findings: [] })

    const drift = await sim.cli('sim', 'fault', '--kind', 'drift', '--target', account.name)
    expect(drift.code, drift.stderr).toBe(0)
    const drifted = /^Changed (\S+) outside Flotilla/.exec(drift.stdout)?.[1]
    expect(drifted).toMatch(new RegExp(`^${account.id}/`))

    const planned = await sim.cli('plan', '--format', 'json', '--now', NOW, '--target', only)
    expect(planned.code, planned.stderr).toBe(2)
    const plan = JSON.parse(planned.stdout)
    expect(plan.findings).toEqual([
      expect.objectContaining({ rule: 'drift', effect: 'warn', addresses: [drifted] }),
    ])
    expect(plan.targets.map((t: { id: string }) => t.id)).toEqual([account.id])
    expect(plan.targets[0].changes).toEqual([expect.objectContaining({ address: drifted, action: 'update' })])
    const text = await sim.cli('plan', '--now', NOW, '--target', only)
    expect(text.stdout).toContain(`drift: account ${account.name} (${account.id}) drifted`)
  })

  test('sim fault: API errors fail an apply after its retries, nothing applied; cleared, it applies; bad input is refused', async () => {
    const sim = await newFleet()
    const { account } = shopAccount(sim.fleet)
    await sim.cli('sim', 'settings', '--latency-scale', '0')

    const injected = await sim.cli(
      'sim',
      'fault',
      '--kind',
      'api-errors',
      '--target',
      account.name,
      '--rate',
      '1',
    )
    expect(injected.code, injected.stderr).toBe(0)
    const faultId = /^Injected (fault-[0-9a-f]+): /.exec(injected.stdout)?.[1]
    expect(faultId).toBeDefined()

    const started = Date.now()
    const failed = await sim.cli('apply', '--target', account.name, '--timeout', '5')
    const tookMs = Date.now() - started
    expect(failed.code).toBe(3)
    expect(failed.stdout).toContain(
      `Apply of ${account.id} (${account.name}) failed: InternalFailure: the service failed (simulated fault ${faultId})\n`,
    )
    // Six attempts in all, each retry reported; the default backoff keeps them within seconds.
    expect(failed.stderr.match(/attempt \d failed \(InternalFailure/g)).toHaveLength(5)
    expect(tookMs).toBeLessThan(20_000)
    const faulty = await simStatus(sim)
    expect(faulty.stacks).toEqual({})
    expect(faulty.faults).toEqual([expect.objectContaining({ id: faultId, kind: 'api-errors' })])

    const cleared = await sim.cli('sim', 'fault', '--clear')
    expect(cleared).toMatchObject({ code: 0, stdout: 'Cleared 1 fault.\n' })
    const retried = await sim.cli('apply', '--target', account.name, '--timeout', '5')
    expect(retried.code, retried.stdout + retried.stderr).toBe(0)
    expect(retried.stdout).toContain(`to ${account.id} (${account.name}).`)

    const nope = await sim.cli('sim', 'fault', '--kind', 'nope')
    expect(nope.code).toBe(1)
    expect(nope.stderr).toContain(`--kind "nope" is not a fault kind; use one of: ${FAULT_KINDS.join(', ')}`)
    for (const rate of ['2', '-0.5', 'often', '']) {
      const bad = await sim.cli('sim', 'fault', '--kind', 'api-errors', '--rate', rate)
      expect(bad.code, `--rate "${rate}"`).toBe(1)
      expect(bad.stderr).toContain(`--rate "${rate}" must be a number from 0 to 1`)
    }
    const outage = await sim.cli('sim', 'fault', '--kind', 'region-outage')
    expect(outage.code).toBe(1)
    expect(outage.stderr).toContain('--kind region-outage needs --region NAME')
    const both = await sim.cli(
      'sim',
      'fault',
      '--kind',
      'region-outage',
      '--region',
      'eu-central-1',
      '--target',
      account.id,
    )
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('give --target or --region, not both')
    const blankScale = await sim.cli('sim', 'settings', '--latency-scale', ' ')
    expect(blankScale.code).toBe(1)
    expect(blankScale.stderr).toContain('--latency-scale " " must be a number from 0 (instant) to 100')
    const after = await simStatus(sim)
    expect(after.faults).toEqual([])
    expect(after.settings).toEqual({ latencyScale: 0 })
  })

  test('sim serve: a real process answers DNS from the store until SIGTERM', async () => {
    const sim = await newFleet()
    const { account, cluster, shopName } = shopAccount(sim.fleet)
    const domain = String(account.config.dns_domain)
    await sim.cli('sim', 'settings', '--latency-scale', '0')
    expect((await sim.cli('apply', '--target', account.id)).code).toBe(0)
    expect((await sim.cli('apply', '--target', cluster.id)).code).toBe(0)

    // An image pushed to the simulated registry (kept in the store, listed back).
    const pushed = await sim.cli('sim', 'image', '--add', 'nginx:1.27')
    expect(pushed.stdout).toBe('Pushed docker.io/library/nginx:1.27 to the simulated registry.\n')
    expect(JSON.parse((await sim.cli('sim', 'image', '--format', 'json')).stdout)).toEqual([
      'docker.io/library/nginx:1.27',
    ])

    const serve = sim.spawn('sim', 'serve')
    try {
      const endpoints = JSON.parse(await serve.firstStdoutLine(30_000)) as {
        dns: string
        aws: string
        kubernetes: Record<string, string>
      }
      expect(endpoints.dns).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(endpoints.aws).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      // Every cluster of the fleet has its Kubernetes API, which answers with the cluster's objects.
      const clusters = sim.fleet.targets.filter((t) => t.kind === 'cluster').map((t) => t.id)
      expect(Object.keys(endpoints.kubernetes).sort()).toEqual([...clusters].sort())
      const namespaces = (await (
        await fetch(`${endpoints.kubernetes[cluster.id]}/api/v1/namespaces`)
      ).json()) as { items: { metadata: { name: string } }[] }
      const rendered = sim.fleet.desired
        .get(cluster.id)!
        .manifests.filter((m) => m.object.kind === 'Namespace')
        .map((m) => String((m.object.metadata as { name: string }).name))
      expect(rendered.length).toBeGreaterThan(0)
      expect(namespaces.items.map((n) => n.metadata.name)).toEqual(
        expect.arrayContaining(['kube-system', ...rendered]),
      )
      // The AWS endpoint answers the AWS SDK in the account the access key id names.
      const sts = new STSClient({
        endpoint: endpoints.aws,
        region: 'eu-central-1',
        maxAttempts: 1,
        credentials: { accessKeyId: account.account, secretAccessKey: 'any' },
      })
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(account.account)
      // The shop's name matches the wildcard external-dns published for the cluster's ingress.
      expect(await askA(endpoints.dns, shopName)).toEqual([expect.stringMatching(/^203\.0\.113\.\d+$/)])
      expect(await askA(endpoints.dns, `nothing-here.${domain}`)).toBe('ENOTFOUND')
      expect(await askA(endpoints.dns, 'www.example.com')).toBe('EREFUSED')

      if (backend === 'pglite') {
        const locked = await sim.cli('sim', 'status')
        expect(locked.code).toBe(1)
        expect(locked.stderr).toContain(`is in use by process ${serve.pid}`)
        // A mistake in the arguments is reported as itself, not hidden behind the lock.
        const mistaken = await sim.cli('sim', 'fault', '--kind', 'api-errors', '--rate', '7')
        expect(mistaken.code).toBe(1)
        expect(mistaken.stderr).toContain('--rate "7" must be a number from 0 to 1')
      } else {
        // PostgreSQL is shared: another process replaces the zone while serve runs.
        replaceOnce(sim.repo, account.at.file, `dns_domain: ${domain},`, `dns_domain: new-${domain},`)
        const zoneStack = `${account.id}/global/route53-hostedzones`
        const replaced = await sim.cli(
          'apply',
          '--target',
          account.id,
          ...['Certificate', 'HostedZone'].flatMap((id) => ['--approve', `${zoneStack}/${id}`]),
        )
        expect(replaced.code, replaced.stderr).toBe(0)
        const since = Date.now()
        const gone = await pollUntil(
          () => askA(endpoints.dns, shopName),
          (answer) => typeof answer === 'string',
          5000,
        )
        expect(gone).toBe('EREFUSED')
        expect(Date.now() - since).toBeLessThan(5000)
        expect(await askA(endpoints.dns, `new-${domain}`)).toBe('ENODATA') // the apex has SOA and NS only
      }

      // Its port is taken: a second server is told so, not reported as a bug of Flotilla.
      const port = endpoints.dns.slice(endpoints.dns.lastIndexOf(':') + 1)
      const elsewhere = join(dirname(sim.repo), 'second-store')
      const secondServe = await within(
        sim.cli('sim', 'serve', '--dns-port', port, '--data', elsewhere),
        30_000,
        'a second sim serve',
      )
      expect(secondServe.code, secondServe.stderr).toBe(1)
      expect(secondServe.stderr).toContain(`error: UDP port ${port} on 127.0.0.1 is in use`)

      serve.child.kill('SIGTERM')
      expect(await serve.waitForExit(15_000)).toEqual({ code: 0, signal: null })
      expect(serve.stderr()).toBe('')
      if (backend === 'pglite') expect(existsSync(join(sim.repo, '.flotilla', 'lock'))).toBe(false)
    } finally {
      serve.child.kill('SIGKILL')
    }
  })

  test('sim serve re-reads the store on every refresh without piling up listeners, and stops when aborted', async () => {
    const sim = await newFleet()
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
    process.on('warning', onWarning)
    const stop = new AbortController()
    try {
      let printed = ''
      const io: CliIo = { stdout: (text) => (printed += text), stderr: () => {}, isTTY: false, cwd: sim.repo }
      const serving = sim.inProcess(() => simServeCommand({ refreshMs: 5 }, io, stop.signal))
      await pollUntil(
        async () => printed,
        (text) => text.includes('\n'),
        30_000,
      )
      const { dns } = JSON.parse(printed) as { dns: string }
      await sleep(300) // some 50 refreshes
      expect(
        await askA(dns, `nothing-here.${String(shopAccount(sim.fleet).account.config.dns_domain)}`),
      ).toBe(
        'EREFUSED', // nothing applied yet: no zone
      )
      stop.abort()
      expect(await within(serving, 10_000, 'sim serve to stop')).toBe(0)
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
    } finally {
      stop.abort()
      process.off('warning', onWarning)
    }
  })

  // Real processes, each starting in 2 to 4 s, and the stacks' own time: slower than the default bound.
  test('apply killed at random moments: the next apply takes over, with no drift and nothing twice', async () => {
    const sim = await newFleet()
    // The killed applies are real processes, on the real clock: no weekend rule for this production
    // account. Committed, so that the trusted branch (main) has no weekend rule either: removing
    // it in the working tree alone is a governance change that needs an owner's approval.
    withoutTimeRules(sim.repo)
    await commitAll(sim.repo, 'Without time rules')
    const { account } = shopAccount(sim.fleet)
    const only = `target.id == '${account.id}'`
    const stacks = sim.fleet.desired.get(account.id)!.stacks.length
    // At scale 1.5 the account's stacks take 2 to 9 s (the VPC's NAT gateways are the slowest),
    // so a kill leaves them in progress, for longer than the provider's retries of a busy stack.
    await sim.cli('sim', 'settings', '--latency-scale', '1.5')
    const rounds: { round: number; delayMs: number; ended: string; stderr: string }[] = []
    const report = () => JSON.stringify(rounds, null, 2)
    /** Starts `apply` as a process and SIGKILLs it 0–1500 ms after its first stderr output. */
    const killedApply = async (round: number) => {
      const apply = sim.spawn('apply', '--target', account.id)
      try {
        await apply.firstStderrOrExit(30_000)
        const delayMs = Math.floor(Math.random() * 1500)
        await Promise.race([sleep(delayMs), apply.exited])
        apply.child.kill('SIGKILL')
        const end = await apply.waitForExit(10_000)
        rounds.push({ round, delayMs, ended: end.signal ?? `exit ${end.code}`, stderr: tail(apply.stderr()) })
        return apply.pid
      } finally {
        apply.child.kill('SIGKILL')
      }
    }

    const pid = await killedApply(0)
    expect(rounds[0]!.ended, report()).toBe('SIGKILL')
    if (backend === 'pglite') {
      // The killed process's lock stays behind; the next process sees its pid is gone and takes over.
      expect(readFileSync(join(sim.repo, '.flotilla', 'lock'), 'utf8')).toBe(`${pid}\n`)
    }
    // At once, while the killed apply's stacks are still being created.
    const takeover = await sim.cli('apply', '--target', account.id, '--timeout', '60')
    expect(takeover.code, `${report()}\n${tail(takeover.stdout)}\n${tail(takeover.stderr)}`).toBe(0)
    // The killed apply had started every operation: they finish, and nothing is started again.
    expect(takeover.stdout).toBe(`${account.id} (${account.name}) is up to date: nothing to apply.\n`)

    // Two more rounds, each with work of its own: a new cost center retags the log bucket. Its
    // cost-center tag changes with it (the two must agree).
    const costCenter = (to: string) => {
      const file = join(sim.repo, account.at.file)
      const text = readFileSync(file, 'utf8')
      const entry = text.indexOf(`  name: ${account.name}\n`)
      const tag = /cost-center: "\d+"/g
      tag.lastIndex = entry
      const found = tag.exec(text)!
      const next = text.indexOf('\n- ', entry)
      expect(next < 0 || found.index < next, 'the account has a cost-center tag').toBe(true)
      const retagged = `${text.slice(0, found.index)}cost-center: "${to}"${text.slice(found.index + found[0].length)}`
      const name = `  name: ${account.name}\n`
      const written = new RegExp(`${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  costCenter: "\\d+"\n`)
      writeFileSync(
        file,
        written.test(retagged)
          ? retagged.replace(written, `${name}  costCenter: "${to}"\n`)
          : retagged.replace(name, `${name}  costCenter: "${to}"\n`),
      )
    }
    costCenter('9000000001')
    await killedApply(1)
    costCenter('9000000002')
    await killedApply(2)

    const finished = await sim.cli('apply', '--target', account.id, '--timeout', '60')
    expect(finished.code, `${report()}\n${tail(finished.stdout)}\n${tail(finished.stderr)}`).toBe(0)
    const planned = await sim.cli('plan', '--format', 'json', '--now', NOW, '--target', only)
    expect(planned.code, `${report()}\n${tail(planned.stdout, 40)}`).toBe(0)
    expect(JSON.parse(planned.stdout)).toMatchObject({ verdict: 'no-changes', findings: [] })
    const status = await simStatus(sim)
    expect(
      Object.values(status.stacks).reduce((sum, n) => sum + n, 0),
      report(),
    ).toBe(stacks)
    expect(
      Object.keys(status.stacks).filter((state) => !COMPLETE.has(state)),
      report(),
    ).toEqual([])
    expect(status.zones, report()).toBe(1)
  }, 90_000)
})
