/**
 * Prometheus metrics of the simulated services, served over HTTP by `flotilla sim serve`:
 *
 * - `http_requests_total{account, service, code}` (counter): the synthetic requests each service
 *   received, `code="200"` while it was healthy, `"503"` while it was down ({@link SimulatedLoad});
 * - `flotilla_sim_service_up{account, service}` (gauge): 1 while the service is healthy, else 0.
 *
 * These are what rollout `prometheus` gates query, e.g. the example's error ratio
 * `sum(rate(http_requests_total{account="…",code=~"5.."}[5m])) / sum(rate(http_requests_total{account="…"}[5m]))`.
 * Each scrape reads the fleet once — its zones, its faults, the seeded services and the clusters
 * that have objects — whatever the number of services. The metrics live in a registry of their own, never prom-client's global one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Kysely } from 'kysely'
import { Counter, Gauge, Registry } from 'prom-client'
import type { Database } from '../../store/tables.ts'
import type { ZoneLookup } from './dns-zones.ts'
import type { Fault } from './faults.ts'
import { listenHttp } from './http-listen.ts'
import {
  type AccountServices,
  SIMULATED_STATUS_CODES,
  SimulatedLoad,
  type SimulatedLoadOptions,
  serviceHealthSamples,
} from './service-metrics.ts'
import { deployedClusterIds } from './sim-clusters.ts'
import { type SimDb, simDatabase } from './sim-database.ts'
import { knownAccounts } from './sim-targets.ts'

/** What the metrics read of the simulated provider (`SimProvider` has both). */
export interface SimHealthSource {
  /** Every zone, as the DNS server serves them. */
  zones(): Promise<ZoneLookup>
  /** The active faults. */
  faults(): Promise<readonly Fault[]>
}

/** Options of {@link SimServiceMetrics}. */
export interface SimServiceMetricsOptions extends SimulatedLoadOptions {
  /** The store the simulated fleet lives in (its seeded accounts and their services). */
  readonly db: Kysely<Database>
  readonly sim: SimHealthSource
}

type ServiceLabel = 'account' | 'service'

/** The simulated services' metrics, in a prom-client registry of their own. */
export class SimServiceMetrics {
  /** The registry the metrics are in; nothing else is registered there. */
  readonly registry = new Registry()
  private readonly db: Kysely<Database>
  private readonly sim: SimHealthSource
  private readonly load: SimulatedLoad
  private readonly requests: Counter<ServiceLabel | 'code'>
  private readonly up: Gauge<ServiceLabel>
  /** The services that have series, so that those that vanish (`sim reset`) lose them. */
  private exposed = new Map<string, { account: string; service: string }>()
  /** Scrapes run one after the other: each advances the load from where the previous one left it. */
  private previous: Promise<unknown> = Promise.resolve()

  constructor(options: SimServiceMetricsOptions) {
    this.db = options.db
    this.sim = options.sim
    this.load = new SimulatedLoad(options)
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'Synthetic requests each simulated service received (a steady load), by status code: 200 while it was healthy, 503 while it was down.',
      labelNames: ['account', 'service', 'code'],
      registers: [this.registry],
    })
    this.up = new Gauge({
      name: 'flotilla_sim_service_up',
      help: 'Whether the simulated service is up (1): its name resolves through the simulated DNS and its region has no outage.',
      labelNames: ['account', 'service'],
      registers: [this.registry],
    })
  }

  /** The `Content-Type` of {@link SimServiceMetrics.scrape}'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType
  }

  /**
   * Reads the health of every service, advances the load to now, and returns the metrics in the
   * Prometheus text format. Concurrent scrapes are served one at a time.
   */
  scrape(): Promise<string> {
    const scraped = this.previous.then(() => this.update()).then(() => this.registry.metrics())
    this.previous = scraped.catch(() => {})
    return scraped
  }

  private async update(): Promise<void> {
    const db = await simDatabase(this.db)
    const accounts = await seededServices(db)
    const deployed = await deployedClusters(db, accounts)
    const zones = await this.sim.zones()
    const faults = await this.sim.faults()
    const traffic = this.load.advance(serviceHealthSamples(accounts, zones, faults, deployed))
    const gone = new Map(this.exposed)
    for (const { account, service, healthy, requests } of traffic) {
      const key = JSON.stringify([account, service])
      gone.delete(key)
      this.exposed.set(key, { account, service })
      this.up.set({ account, service }, healthy ? 1 : 0)
      // Both codes get a series from the start: a 5xx series at 0 keeps an error ratio at 0
      // rather than empty while every request succeeds.
      for (const code of SIMULATED_STATUS_CODES) this.requests.inc({ account, service, code }, requests[code])
    }
    for (const [key, labels] of gone) {
      this.exposed.delete(key)
      this.up.remove(labels)
      for (const code of SIMULATED_STATUS_CODES) this.requests.remove({ ...labels, code })
    }
  }
}

/** The services of every known account, in one query; the `account` label is the account id. */
async function seededServices(db: SimDb): Promise<AccountServices[]> {
  return (await knownAccounts(db))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((account) => ({ account: account.id, services: account.info.services }))
}

/** The clusters that have objects, asked only when some service runs in a cluster. */
async function deployedClusters(db: SimDb, accounts: readonly AccountServices[]): Promise<Set<string>> {
  if (!accounts.some((a) => a.services.some((s) => s.cluster !== undefined))) return new Set()
  return deployedClusterIds(db)
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The address to listen on; keep it on loopback. @default '127.0.0.1' */
  readonly host?: string
  /** The TCP port; 0 picks a free one (read it from the result). @default 0 */
  readonly port?: number
  /** What is served: the simulated services' metrics, the rollout engine's, or any other registry. */
  readonly metrics: MetricsSource
}

/** Metrics in the Prometheus text format, read anew at each scrape. */
export interface MetricsSource {
  scrape(): Promise<string>
  readonly contentType: string
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The URL Prometheus scrapes, `http://127.0.0.1:PORT/metrics`. */
  readonly url: string
  readonly port: number
  /** Stops serving, drops open (keep-alive) connections and frees the port. */
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (and `HEAD`) in the Prometheus text format. Anything else is a 404 (a
 * 405 for another method on `/metrics`); a scrape that fails is a 500 with the reason, and the
 * server keeps running. Rejects when it cannot listen (the port is taken, the address is not
 * this machine's), with Node's error and its `code`.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1'
  const { metrics } = options
  const server = createServer((request, response) => {
    void respond(metrics, request, response)
  })
  const listening = await listenHttp(server, host, options.port ?? 0)
  return { url: `${listening.origin}/metrics`, port: listening.port, close: listening.close }
}

async function respond(
  metrics: MetricsSource,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname
  const text = (status: number, body: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
    response.end(body)
  }
  if (path !== '/metrics') return text(404, 'not found: the metrics are at /metrics\n')
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return text(405, 'method not allowed: GET /metrics\n', { allow: 'GET, HEAD' })
  try {
    const body = await metrics.scrape()
    response.writeHead(200, { 'content-type': metrics.contentType })
    response.end(request.method === 'HEAD' ? undefined : body)
  } catch (error) {
    text(500, `the metrics could not be read: ${error instanceof Error ? error.message : String(error)}\n`)
  }
}
