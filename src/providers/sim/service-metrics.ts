/**
 * The synthetic traffic of the simulated services, for their Prometheus metrics: every service
 * receives a steady load of {@link SIMULATED_REQUESTS_PER_SECOND}, answered `200` while it is
 * healthy and `503` while it is not (its name does not resolve, its region is out). Counting is
 * deterministic — no randomness, whole requests only — and driven by an injected clock, so what a
 * scrape reports follows from the health snapshots and the time between scrapes alone.
 */

import type { ZoneLookup } from './dns-zones.ts'
import type { Fault } from './faults.ts'
import { type SimService, serviceHealth } from './services.ts'

/**
 * The load every simulated service receives, in requests per second. A constant, so that error
 * ratios (`5xx / all`) are exact: 0 while a service is up, 1 while it is down.
 */
export const SIMULATED_REQUESTS_PER_SECOND = 10

/** The status codes of simulated requests: served, or failed because the service is down. */
export const SIMULATED_STATUS_CODES = ['200', '503'] as const

/** A status code of {@link SIMULATED_STATUS_CODES}. */
export type SimulatedStatusCode = (typeof SIMULATED_STATUS_CODES)[number]

/** Whether one service of one account is up at a scrape. */
export interface ServiceHealthSample {
  /** The account id (the `account` label, as `{{ target.account }}` renders it in gate queries). */
  readonly account: string
  readonly service: string
  readonly healthy: boolean
}

/** The requests one service received since the previous scrape, by status code. */
export interface ServiceTraffic extends ServiceHealthSample {
  readonly requests: Readonly<Record<SimulatedStatusCode, number>>
}

/** Options of {@link SimulatedLoad}. */
export interface SimulatedLoadOptions {
  /** Milliseconds since an epoch; only differences matter. @default Date.now */
  readonly now?: () => number
  /** @default {@link SIMULATED_REQUESTS_PER_SECOND} */
  readonly requestsPerSecond?: number
}

/**
 * Turns health snapshots into request counts. The load starts when the `SimulatedLoad` is created;
 * each {@link SimulatedLoad.advance} hands every service `rate × seconds since the previous call`
 * requests, all answered as the service's health at that call says. Fractions of a request are
 * carried over per service, so counts are whole and add up exactly over time.
 *
 * @example
 * const load = new SimulatedLoad({ now: () => clock })
 * clock += 1500
 * load.advance([{ account: '907386514155', service: 'shop', healthy: true }])
 * // → [{ account: '907386514155', service: 'shop', healthy: true, requests: { '200': 15, '503': 0 } }]
 */
export class SimulatedLoad {
  private readonly now: () => number
  /** Requests per second; times milliseconds, it counts thousandths of a request (exact for whole rates). */
  private readonly rate: number
  private last: number
  /** Per service, request-milliseconds not yet counted as a whole request (below 1000). */
  private carry = new Map<string, number>()

  constructor(options: SimulatedLoadOptions = {}) {
    this.now = options.now ?? Date.now
    this.rate = options.requestsPerSecond ?? SIMULATED_REQUESTS_PER_SECOND
    if (!Number.isFinite(this.rate) || this.rate < 0)
      throw new RangeError(`requestsPerSecond must be a number of 0 or more, not ${this.rate}`)
    this.last = this.now()
  }

  /**
   * Moves the load on to now: the requests each service of `samples` received since the previous
   * call (or since the load started), by status code. Services absent from `samples` get nothing
   * and lose their carried fraction; a clock that goes back counts as no time passing.
   */
  advance(samples: readonly ServiceHealthSample[]): ServiceTraffic[] {
    const now = this.now()
    const elapsedMs = Math.max(0, now - this.last)
    this.last = Math.max(this.last, now)
    const carry = new Map<string, number>()
    const traffic = samples.map((sample) => {
      const key = `${sample.account}\u0000${sample.service}`
      const owed = (this.carry.get(key) ?? 0) + this.rate * elapsedMs
      const whole = Math.floor(owed / 1000)
      carry.set(key, owed - whole * 1000)
      return {
        ...sample,
        requests: { '200': sample.healthy ? whole : 0, '503': sample.healthy ? 0 : whole },
      }
    })
    this.carry = carry
    return traffic
  }
}

/** A service as seeded; `cluster`, when the seed recorded it, is the cluster it runs in. */
export type SeededService = SimService & { readonly cluster?: string }

/** A seeded account's services, as `sim_targets.info.services` holds them. */
export interface AccountServices {
  readonly account: string
  readonly services: readonly SeededService[]
}

/**
 * The health of every running service, from one reading of the fleet: its zones, its active
 * faults, and the clusters that have objects. A service is down when its name does not resolve or
 * a `region-outage` covers its region — the rule `SimProvider#status` and `health` apply. A service
 * whose cluster has nothing applied yet does not run: it receives no traffic and gets no sample.
 * Pure.
 */
export function serviceHealthSamples(
  accounts: readonly AccountServices[],
  zones: ZoneLookup,
  faults: readonly Fault[],
  deployedClusters: ReadonlySet<string> = new Set(),
): ServiceHealthSample[] {
  const regionsDown = new Set(
    faults.flatMap((f) => (f.kind === 'region-outage' && f.scope.kind === 'region' ? [f.scope.name] : [])),
  )
  return accounts.flatMap(({ account, services }) =>
    services
      .filter((service) => service.cluster === undefined || deployedClusters.has(service.cluster))
      .map((service) => ({
        account,
        service: service.name,
        healthy: serviceHealth(service, zones, regionsDown.has(service.region)).healthy,
      })),
  )
}
