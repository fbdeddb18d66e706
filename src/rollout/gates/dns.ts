/** The `dns` gate: real DNS queries for the rendered names, at the servers the target's provider names. */
import { Resolver } from 'node:dns/promises'
import type { Target } from '../../core/model/fleet-model.ts'
import { untilAborted } from '../../lib/abortable.ts'
import {
  describeValue,
  formatLocation,
  type GateEnvironment,
  GateFailure,
  type GateRun,
  gateOf,
  listSome,
  messageOf,
  type Outcome,
  renderField,
} from './gate-run.ts'

/** Per-query timeout of the DNS client (it retries {@link DNS_TRIES} times, within the gate's timeout). */
const DNS_QUERY_TIMEOUT_MS = 2_000
const DNS_TRIES = 3

interface NameOutcome {
  readonly resolves: boolean
  readonly text: string
}

/**
 * Where a `dns` gate of the target asks: the DNS servers its provider names (`gateEndpoints`: the
 * simulated fleet's own DNS server), else those the environment lists (an operator's), else
 * undefined — the machine's resolvers. A `dns` gate on an `aws` target so asks the real resolvers,
 * never the simulated zones.
 */
export async function dnsServersFor(
  environment: Pick<GateEnvironment, 'provider' | 'dnsServers'>,
  target: Target,
): Promise<readonly string[] | undefined> {
  const endpoints = await environment.provider.gateEndpoints?.(target)
  if (endpoints?.dnsServers && endpoints.dnsServers.length > 0) return endpoints.dnsServers
  return environment.dnsServers
}

/**
 * Resolves each name with real DNS queries (type A) at the servers {@link dnsServersFor} names. A
 * name passes when its server answers NOERROR — with addresses, or without any A record (NODATA:
 * the name exists, as a zone apex does). NXDOMAIN, REFUSED, SERVFAIL, an unreachable server and no
 * answer in time fail. All names are asked at once; the detail lists each one's outcome.
 */
export async function checkDns(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'dns')
  const names = renderNames(run, gate.names)
  let configured: readonly string[] | undefined
  try {
    configured = await untilAborted(dnsServersFor(run.environment, run.target), run.signal)
  } catch (error) {
    if (run.signal.aborted) throw new GateFailure(`asking where to resolve ${run.stopReason()}`)
    throw new GateFailure(
      `the ${run.environment.provider.name} provider could not say which DNS servers to ask: ${messageOf(error)}`,
    )
  }
  if (configured?.length === 0)
    throw new GateFailure('there is no DNS server to ask (the gate environment lists none)')
  const resolver = new Resolver({ timeout: DNS_QUERY_TIMEOUT_MS, tries: DNS_TRIES })
  if (configured) {
    try {
      resolver.setServers(configured)
    } catch (error) {
      throw new GateFailure(`cannot ask the DNS servers ${configured.join(', ')}: ${messageOf(error)}`)
    }
  }
  // None named: the machine's resolvers, as a new resolver starts with them.
  const servers = configured ?? resolver.getServers()
  if (run.signal.aborted) throw new GateFailure(`the DNS queries ${run.stopReason()}`)
  const cancel = () => resolver.cancel()
  run.signal.addEventListener('abort', cancel, { once: true })
  let outcomes: NameOutcome[]
  try {
    outcomes = await Promise.all(names.map((name) => resolveName(resolver, name, servers, run)))
  } finally {
    run.signal.removeEventListener('abort', cancel)
  }
  const failing = outcomes.filter((o) => !o.resolves)
  const list = outcomes.map((o) => o.text).join('; ')
  if (failing.length === 0) {
    return {
      passed: true,
      detail: `${names.length === 1 ? 'the name resolves' : `all ${names.length} names resolve`}: ${list}`,
    }
  }
  return {
    passed: false,
    detail: `${failing.length} of ${names.length} ${names.length === 1 ? 'name does' : 'names do'} not resolve at ${servers.join(', ')}: ${list}; check that the zone exists and serves these names (dig @server -p port name)`,
  }
}

async function resolveName(
  resolver: Resolver,
  name: string,
  servers: readonly string[],
  run: GateRun,
): Promise<NameOutcome> {
  try {
    const addresses = await resolver.resolve4(name)
    return { resolves: true, text: `${name} resolves to ${listSome(addresses)}` }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENODATA') return { resolves: true, text: `${name} exists (NOERROR, no A record)` }
    if (run.signal.aborted || code === 'ECANCELLED')
      return { resolves: false, text: `${name}: ${run.stopReason()}` }
    return { resolves: false, text: `${name}: ${dnsErrorText(code, error, servers)}` }
  }
}

function dnsErrorText(code: string | undefined, error: unknown, servers: readonly string[]): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'does not exist (NXDOMAIN)'
    case 'EREFUSED':
      return 'refused (REFUSED: no server is authoritative for it, e.g. its zone was deleted)'
    case 'ESERVFAIL':
      return 'server failure (SERVFAIL)'
    case 'ECONNREFUSED':
      return `the DNS server (${servers.join(', ')}) is not listening (connection refused)`
    case 'ETIMEOUT':
      return `no answer from ${servers.join(', ')} (DNS timeout)`
    case 'EBADNAME':
    case 'EBADQUERY':
      return 'is not a valid domain name'
    default:
      return `${code ?? 'error'}: ${messageOf(error)}`
  }
}

/** The rendered `names`: a list of domain names (a `{{ }}` entry may render to a list of them). */
function renderNames(run: GateRun, raw: readonly string[]): string[] {
  const rendered = renderField(run, 'names', raw)
  const items = (Array.isArray(rendered) ? rendered : [rendered]).flat()
  const names: string[] = []
  for (const item of items) {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new GateFailure(
        `names renders to ${describeValue(item)} for this target, not a domain name; fix the gate's names in rollout.yaml (${formatLocation(run.gate.at)})`,
      )
    }
    if (!names.includes(item)) names.push(item)
  }
  if (names.length === 0)
    throw new GateFailure(
      `names renders to no name for this target; fix the gate in rollout.yaml (${formatLocation(run.gate.at)})`,
    )
  return names
}
