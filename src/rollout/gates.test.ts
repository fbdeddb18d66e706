import { createSocket } from 'node:dgram'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fixtureSource, writeFixtureDir } from '../../test/support/fixture-fleet.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { memorySource } from '../core/model/source.ts'
import { type Provider, ProviderError } from '../core/provider/port.ts'
import { generateExampleFleet } from '../example/generate-example.ts'
import { type DnsServer, startDnsServer } from '../providers/sim/dns-server.ts'
import { InMemoryZones } from '../providers/sim/dns-zones.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import { useTestStore } from '../store/test-store.ts'
import {
  allPassed,
  COMMAND_OUTPUT_LIMIT_BYTES,
  DEFAULT_GATE_TIMEOUT_MS,
  type GateEnvironment,
  type GateResult,
  gateTimeoutMs,
  runGate,
  runGates,
} from './gates.ts'

// The fixture fleet (test/support/fixture-fleet.ts): 111111111111 is a production account
// (teapot.example.org), 222222222222 a test account (teapot-test.example.org).
const PROD = '111111111111'
const TEST = '222222222222'

/** The fixture fleet with `gates` (name → gate, written as JSON, which is YAML) in its rollout.yaml. */
function fleetWithGates(gates: Readonly<Record<string, object>>): Fleet {
  const lines = Object.entries(gates).map(([name, gate]) => `  ${name}: ${JSON.stringify(gate)}`)
  const rollout = `stages:
  - name: dev
    select: target.channel == 'dev'
  - name: ops
    select: target.group == 'ops'
  - name: stable
    select: target.channel == 'stable'
gates:
${lines.join('\n')}
`
  const result = loadFleet(fixtureSource({ 'rollout.yaml': rollout }))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

function targetOf(fleet: Fleet, id: string): Target {
  const target = fleet.targets.find((t) => t.id === id)
  if (!target) throw new Error(`no target ${id}`)
  return target
}

/** Runs gate `name` of `fleet` for target `id`. */
function gate(fleet: Fleet, name: string, id: string, environment: GateEnvironment): Promise<GateResult> {
  const target = targetOf(fleet, id)
  return runGate(
    name,
    fleet.rollout.gates[name]!,
    target,
    fleet.accounts.get(target.account)!,
    fleet.settings,
    environment,
  )
}

/** A provider for tests of how the health gate treats a misbehaving provider; only `health` is used. */
function fakeProvider(health: Provider['health']): Provider {
  const unused = () => Promise.reject(new Error('not used by gates'))
  return {
    name: 'fake',
    health,
    observe: unused,
    apply: unused,
    settled: unused,
    snapshots: unused,
    restore: unused,
  }
}

/** `provider` without `gateEndpoints`: its `dns` gates ask the servers of the environment. */
function withoutGateEndpoints(provider: Provider): Provider {
  return {
    name: provider.name,
    observe: (targets, options) => provider.observe(targets, options),
    apply: (request) => provider.apply(request),
    settled: (target, onEvent, options) => provider.settled(target, onEvent, options),
    health: (target, options) => provider.health(target, options),
    snapshots: () => provider.snapshots(),
    restore: (id) => provider.restore(id),
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A loopback HTTP server for one test; returns its base URL. */
async function serveHttp(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A loopback TCP port nothing listens on (it was free a moment ago). */
async function closedTcpPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A loopback UDP `host:port`: `keepOpen` keeps a socket there that never answers; otherwise nothing listens. */
async function udpPort(keepOpen: boolean): Promise<string> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  if (keepOpen) cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  else await new Promise<void>((resolve) => socket.close(() => resolve()))
  return `127.0.0.1:${port}`
}

describe('rollout gates', () => {
  const test = useTestStore('pglite')
  let sim: SimProvider
  let workdir: string

  beforeAll(async () => {
    sim = new SimProvider({ db: test.store.db })
    workdir = mkdtempSync(join(tmpdir(), 'flotilla-gates-'))
  })
  afterAll(() => rmSync(workdir, { recursive: true, force: true }))

  function environment(extra: Partial<GateEnvironment> = {}): GateEnvironment {
    // The simulated fleet's health, but not its own DNS server: these gates ask the servers the
    // environment lists (where the target's provider names none; see gates/dns.test.ts).
    return { provider: withoutGateEndpoints(sim), dnsServers: [], cwd: workdir, ...extra }
  }

  describe('health', () => {
    const fleet = fleetWithGates({ healthy: { type: 'health' }, quick: { type: 'health', timeout: '1s' } })

    it('passes when the simulated provider reports every check healthy', async () => {
      await sim.reset()
      await sim.seed(fleet.targets)
      const result = await gate(fleet, 'healthy', TEST, environment())
      expect(result).toMatchObject({ name: 'healthy', type: 'health', state: 'passed' })
      expect(result.detail).toBe(
        `health gate "healthy" passed for account ${TEST}: healthy (1 check: stacks)`,
      )
    })

    it('fails and names each failing check: a service whose name does not resolve, a region that is down', async () => {
      await sim.reset()
      await sim.seed(fleet.targets)
      // Nothing is deployed to the production account, so its shop's name does not resolve.
      const prod = await gate(fleet, 'healthy', PROD, environment())
      expect(prod.state).toBe('failed')
      expect(prod.detail).toContain('service shop: teapot.example.org does not resolve (REFUSED)')

      await sim.addFault({ scope: { kind: 'region', name: 'eu-central-1' }, kind: 'region-outage' })
      const test = await gate(fleet, 'healthy', TEST, environment())
      expect(test.state).toBe('failed')
      expect(test.detail).toContain('unhealthy: region: region eu-central-1 is down')
      await sim.clearFaults()
      expect((await gate(fleet, 'healthy', TEST, environment())).state).toBe('passed')
    })

    it('fails when the provider cannot report health, saying whether a retry may help', async () => {
      const provider = fakeProvider(() =>
        Promise.reject(new ProviderError('throttled', TEST, 'Rate exceeded (simulated)')),
      )
      const result = await gate(fleet, 'healthy', TEST, environment({ provider }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('the fake provider could not report health: Rate exceeded (simulated)')
      expect(result.detail).toContain('retry the target')
    })

    it('fails closed when the provider says unhealthy without a failing check', async () => {
      const provider = fakeProvider(async () => ({ healthy: false, checks: [] }))
      const result = await gate(fleet, 'healthy', TEST, environment({ provider }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('without naming a failing check')
    })

    it('fails at its timeout when the provider does not answer', async () => {
      const provider = fakeProvider(() => new Promise(() => {}))
      const result = await gate(fleet, 'quick', TEST, environment({ provider }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('did not finish within 1s (its timeout)')
      expect(result.durationMs).toBeGreaterThanOrEqual(900)
      expect(result.durationMs).toBeLessThan(3_000)
    })
  })

  describe('dns', () => {
    const fleet = fleetWithGates({
      dns: { type: 'dns', names: ['shop.{{ config.dns_domain }}', '{{ config.dns_domain }}'], timeout: '2s' },
      missing: { type: 'dns', names: ['missing.{{ config.dns_domain }}'], timeout: '2s' },
      quick: { type: 'dns', names: ['{{ config.dns_domain }}'], timeout: '1s' },
    })
    let zones: InMemoryZones
    let server: DnsServer

    beforeAll(async () => {
      zones = new InMemoryZones()
      server = await startDnsServer({ zones })
    })
    afterAll(() => server.close())

    function resetZones(): void {
      for (const name of zones.zoneNames()) zones.removeZone(name)
      zones.addZone('teapot.example.org')
      zones.upsertRecordSet('teapot.example.org', {
        name: 'shop.teapot.example.org',
        type: 'A',
        ttl: 60,
        values: ['192.0.2.10'],
      })
    }

    it('passes when every rendered name resolves, the zone apex (no A record) included', async () => {
      resetZones()
      const result = await gate(fleet, 'dns', PROD, environment({ dnsServers: [server.address] }))
      expect(result.state).toBe('passed')
      expect(result.detail).toBe(
        `dns gate "dns" passed for account ${PROD}: all 2 names resolve: shop.teapot.example.org resolves to 192.0.2.10; teapot.example.org exists (NOERROR, no A record)`,
      )
    })

    it('renders the names per target: the test account has no zone here, so its names are refused', async () => {
      resetZones()
      const result = await gate(fleet, 'dns', TEST, environment({ dnsServers: [server.address] }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('2 of 2 names do not resolve')
      expect(result.detail).toContain('shop.teapot-test.example.org: refused (REFUSED')
      expect(result.detail).toContain('teapot-test.example.org: refused (REFUSED')
    })

    it('fails once the zone is deleted (REFUSED), and for a name the zone does not hold (NXDOMAIN)', async () => {
      resetZones()
      const missing = await gate(fleet, 'missing', PROD, environment({ dnsServers: [server.address] }))
      expect(missing.state).toBe('failed')
      expect(missing.detail).toContain('missing.teapot.example.org: does not exist (NXDOMAIN)')

      zones.removeZone('teapot.example.org')
      const result = await gate(fleet, 'dns', PROD, environment({ dnsServers: [server.address] }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain(
        'shop.teapot.example.org: refused (REFUSED: no server is authoritative for it, e.g. its zone was deleted)',
      )
    })

    it('fails when the DNS server is not listening, well within its timeout', async () => {
      const result = await gate(fleet, 'quick', PROD, environment({ dnsServers: [await udpPort(false)] }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('is not listening (connection refused)')
      expect(result.durationMs).toBeLessThan(1_500)
    })

    it('fails at its timeout when the DNS server never answers', async () => {
      const result = await gate(fleet, 'quick', PROD, environment({ dnsServers: [await udpPort(true)] }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('teapot.example.org: did not finish within 1s (its timeout)')
      expect(result.durationMs).toBeGreaterThanOrEqual(900)
      expect(result.durationMs).toBeLessThan(3_000)
    })

    it('fails when there is no DNS server to ask, or the server address is not one', async () => {
      const none = await gate(fleet, 'quick', PROD, environment({ dnsServers: [] }))
      expect(none.state).toBe('failed')
      expect(none.detail).toContain('there is no DNS server to ask')
      const bad = await gate(fleet, 'quick', PROD, environment({ dnsServers: ['not an address'] }))
      expect(bad.state).toBe('failed')
      expect(bad.detail).toContain('cannot ask the DNS servers not an address')
    })
  })

  describe('command', () => {
    const fleet = fleetWithGates({
      hello: { type: 'command', run: 'echo "hello {{ target.id }} from $(pwd)"' },
      failing: { type: 'command', run: 'echo first; echo "it broke" >&2; exit 3' },
      sleeper: { type: 'command', run: 'sleep 30', timeout: '1s' },
      stubborn: { type: 'command', run: "trap '' TERM; sleep 30", timeout: '1s' },
      spawner: { type: 'command', run: 'sleep 30 & echo $! > child.pid; wait', timeout: '1s' },
      background: { type: 'command', run: 'sleep 30 & echo $! > background.pid; echo started' },
      chatty: { type: 'command', run: "head -c 200000 /dev/zero | tr '\\0' a; echo; echo END" },
      env: { type: 'command', run: 'echo "value=$GATE_TEST_VALUE"' },
    })

    it('passes on exit 0, running the rendered line in the working directory', async () => {
      const result = await gate(fleet, 'hello', PROD, environment())
      expect(result.state).toBe('passed')
      expect(result.output).toBe(`hello ${PROD} from ${workdir}\n`)
      expect(result.detail).toContain(`\`echo "hello ${PROD} from $(pwd)"\` exited with 0`)
      const other = await gate(fleet, 'hello', TEST, environment())
      expect(other.output).toBe(`hello ${TEST} from ${workdir}\n`)
    })

    it('fails on a non-zero exit and keeps stdout and stderr', async () => {
      const result = await gate(fleet, 'failing', PROD, environment())
      expect(result.state).toBe('failed')
      expect(result.output).toBe('first\nit broke\n')
      expect(result.detail).toContain('exited with 3; last output: it broke; see its output')
    })

    it('kills a command at its timeout with all it started, with SIGKILL when it ignores SIGTERM', async () => {
      // Side by side: each runs into its own timeout, the test waits for the slowest only.
      const grace = 1_000 // instead of COMMAND_KILL_GRACE_MS, to keep the test short
      const [sleeper, spawner, stubborn] = await Promise.all(
        ['sleeper', 'spawner', 'stubborn'].map((name) =>
          gate(fleet, name, PROD, environment({ commandKillGraceMs: grace })),
        ),
      )
      expect(sleeper!.state).toBe('failed')
      expect(sleeper!.detail).toContain('`sleep 30` did not finish within 1s (its timeout)')
      expect(sleeper!.durationMs).toBeLessThan(3_000)

      expect(spawner!.state).toBe('failed')
      const pid = Number(readFileSync(join(workdir, 'child.pid'), 'utf8'))
      expect(isRunning(pid)).toBe(false)

      expect(stubborn!.state).toBe('failed')
      expect(stubborn!.detail).toContain('did not finish within 1s')
      expect(stubborn!.durationMs).toBeGreaterThanOrEqual(1_000 + grace - 100)
      expect(stubborn!.durationMs).toBeLessThan(1_000 + grace + 2_000)
      expect(sleeper!.durationMs).toBeLessThan(1_000 + grace - 100) // SIGTERM was enough there
    })

    it('does not wait for background processes the command left behind', async () => {
      const result = await gate(fleet, 'background', PROD, environment())
      expect(result.state).toBe('passed')
      expect(result.output).toBe('started\n')
      expect(result.durationMs).toBeLessThan(2_000)
      const pid = Number(readFileSync(join(workdir, 'background.pid'), 'utf8'))
      // The kill is sent when the shell exits; the process may take a moment to be gone.
      const deadline = Date.now() + 3_000
      while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(isRunning(pid)).toBe(false)
    })

    it('keeps only the last 64 KiB of output', async () => {
      const result = await gate(fleet, 'chatty', PROD, environment())
      expect(result.state).toBe('passed')
      const output = result.output ?? ''
      expect(output.endsWith('\nEND\n')).toBe(true)
      const [notice, ...rest] = output.split('\n')
      expect(notice).toBe(`[… ${200_005 - COMMAND_OUTPUT_LIMIT_BYTES} earlier bytes of output dropped]`)
      expect(Buffer.byteLength(rest.join('\n'))).toBe(COMMAND_OUTPUT_LIMIT_BYTES)
    })

    it('runs with the given environment', async () => {
      const env = { PATH: process.env.PATH, GATE_TEST_VALUE: 'from the environment' }
      const result = await gate(fleet, 'env', PROD, environment({ env }))
      expect(result.output).toBe('value=from the environment\n')
    })

    it('fails when its working directory does not exist', async () => {
      const result = await gate(fleet, 'hello', PROD, environment({ cwd: join(workdir, 'nowhere') }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('cannot run')
      expect(result.detail).toContain('nowhere')
    })

    it('stops when the rollout is aborted, and does not start once it was', async () => {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 200)
      const result = await gate(fleet, 'sleeper', PROD, environment({ signal: controller.signal }))
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('was stopped before it finished')
      expect(result.durationMs).toBeLessThan(900)

      const again = await gate(fleet, 'hello', PROD, environment({ signal: controller.signal }))
      expect(again.state).toBe('failed')
      expect(again.detail).toContain('was not run')
      expect(again.output).toBeUndefined()
    })
  })

  describe('http', () => {
    const seen: string[] = []
    let base: string

    async function start(): Promise<Fleet> {
      seen.length = 0
      base = await serveHttp((req, res) => {
        seen.push(req.url ?? '')
        if (req.url?.startsWith('/ok/')) res.writeHead(200).end('ok')
        else if (req.url === '/down') res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance')
        else if (req.url === '/moved') res.writeHead(302, { location: '/ok/x' }).end()
        // /hang: never answers
      })
      return fleetWithGates({
        ok: { type: 'http', url: `${base}/ok/{{ target.id }}` },
        down: { type: 'http', url: `${base}/down` },
        'expect-down': { type: 'http', url: `${base}/down`, expectStatus: 503 },
        moved: { type: 'http', url: `${base}/moved` },
        hang: { type: 'http', url: `${base}/hang`, timeout: '1s' },
        refused: { type: 'http', url: `http://127.0.0.1:${await closedTcpPort()}/` },
        'not-url': { type: 'http', url: 'ftp://{{ target.id }}/' },
      })
    }

    it('passes on the expected status, GETting the URL rendered for the target', async () => {
      const fleet = await start()
      const result = await gate(fleet, 'ok', PROD, environment())
      expect(result.state).toBe('passed')
      expect(result.detail).toBe(
        `http gate "ok" passed for account ${PROD}: GET ${base}/ok/${PROD} answered 200`,
      )
      await gate(fleet, 'ok', TEST, environment())
      expect(seen).toEqual([`/ok/${PROD}`, `/ok/${TEST}`])
    })

    it('fails on another status and keeps the start of the answer; expectStatus is compared exactly', async () => {
      const fleet = await start()
      const down = await gate(fleet, 'down', PROD, environment())
      expect(down.state).toBe('failed')
      expect(down.detail).toContain(`GET ${base}/down answered 503 Service Unavailable, expected 200`)
      expect(down.output).toBe('maintenance')
      expect((await gate(fleet, 'expect-down', PROD, environment())).state).toBe('passed')
      const moved = await gate(fleet, 'moved', PROD, environment())
      expect(moved.state).toBe('failed')
      expect(moved.detail).toContain('answered 302 Found, expected 200')
    })

    it('fails when nothing listens', async () => {
      const fleet = await start()
      const result = await gate(fleet, 'refused', PROD, environment())
      expect(result.state).toBe('failed')
      expect(result.detail).toContain('failed: connection refused (nothing listens there)')
    })

    it('fails at its timeout when the server does not answer', async () => {
      const fleet = await start()
      const result = await gate(fleet, 'hang', PROD, environment())
      expect(result.state).toBe('failed')
      expect(result.detail).toContain(`GET ${base}/hang did not finish within 1s (its timeout)`)
      expect(result.durationMs).toBeGreaterThanOrEqual(900)
      expect(result.durationMs).toBeLessThan(3_000)
    })

    it('fails when its url does not render to an http(s) URL', async () => {
      const fleet = await start()
      const result = await gate(fleet, 'not-url', PROD, environment())
      expect(result.state).toBe('failed')
      expect(result.detail).toContain(`its url renders to "ftp://${PROD}/", not an http(s) URL`)
    })
  })

  describe('prometheus', () => {
    const queries: string[] = []

    /** A server speaking the shape of the Prometheus query API, under the path prefix /prom. */
    async function start(): Promise<string> {
      queries.length = 0
      return serveHttp((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost')
        if (url.pathname !== '/prom/api/v1/query') {
          res.writeHead(404).end('404 page not found')
          return
        }
        const query = url.searchParams.get('query') ?? ''
        queries.push(query)
        const vector = (...values: string[]) =>
          json(res, 200, {
            status: 'success',
            data: {
              resultType: 'vector',
              result: values.map((value, i) => ({
                metric: { pod: `p${i}` },
                value: [1_700_000_000.5, value],
              })),
            },
          })
        if (query.includes(`account="${PROD}"`)) vector('0.002')
        else if (query.includes(`account="${TEST}"`)) vector('0.5')
        else if (query === 'empty') vector()
        else if (query === 'several') vector('0.001', '0.002')
        else if (query === 'nan') vector('NaN')
        else if (query === 'scalar')
          json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '0.001'] } })
        else if (query === 'range')
          json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [] } })
        else if (query === 'bad')
          json(res, 400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 4' })
        else if (query === 'html')
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>')
        // 'hang': never answers
      })
    }

    function json(res: ServerResponse, status: number, body: unknown): void {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }

    function fleetFor(url: string): Fleet {
      const query = (q: string) => ({
        type: 'prometheus',
        url,
        query: q,
        condition: 'result < 0.01',
        timeout: '1s',
      })
      return fleetWithGates({
        errors: query('sum(rate(http_errors_total{account="{{ target.account }}"}[5m]))'),
        empty: query('empty'),
        several: query('several'),
        nan: query('nan'),
        scalar: query('scalar'),
        range: query('range'),
        bad: query('bad'),
        html: query('html'),
        hang: query('hang'),
        broken: { ...query('scalar'), condition: 'result + 1 > 0' },
      })
    }

    it('renders the query per target and passes or fails by the condition over result', async () => {
      const fleet = fleetFor(`${await start()}/prom/`)
      const pass = await gate(fleet, 'errors', PROD, environment())
      expect(pass.state).toBe('passed')
      expect(pass.detail).toBe(
        `prometheus gate "errors" passed for account ${PROD}: result = 0.002, so \`result < 0.01\` is true`,
      )
      const fail = await gate(fleet, 'errors', TEST, environment())
      expect(fail.state).toBe('failed')
      expect(fail.detail).toContain('result = 0.5, so `result < 0.01` is false')
      expect(queries).toEqual([
        `sum(rate(http_errors_total{account="${PROD}"}[5m]))`,
        `sum(rate(http_errors_total{account="${TEST}"}[5m]))`,
      ])
      expect((await gate(fleet, 'scalar', PROD, environment())).state).toBe('passed')
    })

    it.each([
      ['empty', 'returned no data (an empty vector)'],
      ['several', 'returned 2 series ({"pod":"p0"}, {"pod":"p1"}), but the condition judges one number'],
      ['nan', 'returned NaN, not a finite number'],
      ['range', 'returned a matrix, not an instant vector or scalar'],
      ['bad', 'answered 400 to the query `bad`: bad_data: parse error at char 4'],
      ['html', "answered 200 with something that is not the Prometheus API's JSON (<html>hello</html>)"],
      ['broken', 'the condition `result + 1 > 0` could not be evaluated with result = 0.001'],
    ])('fails closed on %s', async (name, detail) => {
      const fleet = fleetFor(`${await start()}/prom`)
      const result = await gate(fleet, name, PROD, environment())
      expect(result.state).toBe('failed')
      expect(result.detail).toContain(detail)
    })

    it('fails closed when Prometheus is unreachable, answers elsewhere, or not in time', async () => {
      const unreachable = fleetFor(`http://127.0.0.1:${await closedTcpPort()}`)
      const refused = await gate(unreachable, 'errors', PROD, environment())
      expect(refused.state).toBe('failed')
      expect(refused.detail).toContain('cannot query Prometheus at')
      expect(refused.detail).toContain('connection refused')

      const base = await start()
      const wrongPath = await gate(fleetFor(base), 'errors', PROD, environment())
      expect(wrongPath.state).toBe('failed')
      expect(wrongPath.detail).toContain('answered 404 with something that is not')

      const hang = await gate(fleetFor(`${base}/prom`), 'hang', PROD, environment())
      expect(hang.state).toBe('failed')
      expect(hang.detail).toContain('did not finish within 1s (its timeout)')
      expect(hang.durationMs).toBeLessThan(3_000)
    })
  })

  describe('templates, timeouts and several gates', () => {
    it('fails a gate whose template cannot be rendered for the target, with its position', async () => {
      const fleet = fleetWithGates({ broken: { type: 'dns', names: ['{{ config.no_such_item }}'] } })
      const result = await gate(fleet, 'broken', PROD, environment({ dnsServers: ['127.0.0.1:53'] }))
      expect(result.state).toBe('failed')
      expect(result.detail).toMatch(
        /its names cannot be rendered for this target: .*no_such_item.* \(rollout\.yaml:\d+:\d+\)/,
      )
    })

    it('takes the gate’s timeout or the default of its type', () => {
      const fleet = fleetWithGates({
        a: { type: 'command', run: 'true', timeout: '1h30m' },
        b: { type: 'http', url: 'http://x/' },
      })
      expect(gateTimeoutMs(fleet.rollout.gates.a!)).toBe(5_400_000)
      expect(gateTimeoutMs(fleet.rollout.gates.b!)).toBe(DEFAULT_GATE_TIMEOUT_MS.http)
      expect(DEFAULT_GATE_TIMEOUT_MS).toEqual({
        health: 60_000,
        dns: 30_000,
        command: 300_000,
        http: 30_000,
        prometheus: 30_000,
      })
    })

    it('runs every named gate in order and keeps each result; an undefined name fails', async () => {
      const fleet = fleetWithGates({
        ok: { type: 'command', run: 'true' },
        no: { type: 'command', run: 'false' },
      })
      const target = targetOf(fleet, PROD)
      const results = await runGates(
        ['no', 'nope', 'ok'],
        fleet.rollout.gates,
        target,
        fleet.accounts.get(PROD)!,
        fleet.settings,
        environment(),
      )
      expect(results.map((r) => [r.name, r.type, r.state])).toEqual([
        ['no', 'command', 'failed'],
        ['nope', 'unknown', 'failed'],
        ['ok', 'command', 'passed'],
      ])
      expect(results[1]!.detail).toContain('rollout.yaml defines no gate of that name (defined: ok, no)')
      expect(allPassed(results)).toBe(false)
      expect(allPassed(results.slice(2))).toBe(true)
    })

    it('runs the example fleet’s gates for a stable account: health, dns, e2e and errors', async () => {
      const files = generateExampleFleet({ accounts: 10, clusters: 2, seed: '1' })
      const promBase = await start()
      files.set('rollout.yaml', files.get('rollout.yaml')!.replace('http://127.0.0.1:9090', promBase))
      const result = loadFleet(memorySource(files))
      if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
      const fleet = result.fleet
      const target = fleet.targets.find(
        (t) => t.kind === 'account' && fleet.stageOf.get(t.id) === 'stable' && t.group !== 'ops',
      )!
      const stage = fleet.rollout.stages.find((s) => s.name === 'stable')!
      expect(stage.gates).toEqual(['healthy', 'dns', 'e2e', 'errors'])

      const checkout = writeFixtureDir(Object.fromEntries(files), 'flotilla-gates-example-')
      cleanups.push(() => rmSync(checkout, { recursive: true, force: true }))
      const zones = new InMemoryZones()
      zones.addZone(String(target.config.dns_domain))
      const dns = await startDnsServer({ zones })
      cleanups.push(() => dns.close())
      await sim.reset()
      await sim.seed(fleet.targets)

      const results = await runGates(
        stage.gates ?? [],
        fleet.rollout.gates,
        target,
        fleet.accounts.get(target.id)!,
        fleet.settings,
        environment({ dnsServers: [dns.address], cwd: checkout }),
      )
      expect(results.map((r) => [r.name, r.state])).toEqual([
        // Nothing is deployed in the simulated fleet, so the account's shop does not resolve there.
        ['healthy', 'failed'],
        ['dns', 'passed'],
        ['e2e', 'passed'],
        ['errors', 'passed'],
      ])
      expect(results[0]!.detail).toContain('service shop:')
      expect(results[1]!.detail).toContain(
        `${String(target.config.dns_domain)} exists (NOERROR, no A record)`,
      )
      expect(results[2]!.output).toBe(`e2e: no end-to-end tests yet for ${target.id}\n`)
      expect(exampleQueries.at(-1)).toContain(`account="${target.id}"`)
    })

    const exampleQueries: string[] = []
    function start(): Promise<string> {
      return serveHttp((req, res) => {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('query') ?? ''
        exampleQueries.push(query)
        const body = {
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0'] }] },
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      })
    }
  })
})

/** Whether a process runs (a zombie waiting to be reaped counts as gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}
