/**
 * Fault injection for the simulated fleet: what can go wrong, where, and what a call sees when it
 * does. Pure: the provider passes in the active faults and a random source.
 */
import { InputError } from '../../core/errors.ts'
import { ProviderError } from '../../core/provider/port.ts'

/** The faults the simulator can inject (`flotilla sim fault --kind …`). */
export const FAULT_KINDS = [
  'api-errors',
  'throttling',
  'latency',
  'region-outage',
  'stuck-stack',
  'resource-failure',
  'drift',
  'surprise-replacement',
] as const

/** One of {@link FAULT_KINDS}. */
export type FaultKind = (typeof FAULT_KINDS)[number]

/** What each kind does, for `--help`, `sim status` and the docs. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'api-errors': 'API calls fail with a retryable internal error, at --rate (0..1)',
  throttling: 'API calls are throttled (Rate exceeded), at --rate (0..1)',
  latency: 'stack and object operations take --latency-ms longer to settle',
  'region-outage': 'every call for the region fails and its services are down (use --region)',
  'stuck-stack': 'stack and object operations never settle while the fault is on',
  'resource-failure': 'stack operations fail when they settle and roll back (UPDATE_ROLLBACK_COMPLETE)',
  drift: 'once: changes a stack or object of the target outside Flotilla (not kept as a fault)',
  'surprise-replacement':
    "CloudFormation change sets show every update as a replacement (Replacement: True), as a cloud whose resource types differ from Flotilla's schemas would",
}

/** Where a fault applies: one target, one region, or the whole fleet. */
export type FaultScope = { kind: 'target'; id: string } | { kind: 'region'; name: string } | { kind: 'fleet' }

/** A fault as stored. */
export interface Fault {
  readonly id: string
  readonly scope: FaultScope
  readonly kind: FaultKind
  /** For `api-errors` and `throttling`: the share of calls that fail. */
  readonly rate: number
  /** For `latency`: extra milliseconds per operation. */
  readonly latencyMs: number
  readonly expiresAt: Date | null
}

/** The scope as stored: `target:<id>`, `region:<name>`, `fleet`. */
export function scopeText(scope: FaultScope): string {
  return scope.kind === 'fleet'
    ? 'fleet'
    : scope.kind === 'target'
      ? `target:${scope.id}`
      : `region:${scope.name}`
}

/** Parses a stored scope. */
export function parseScope(text: string): FaultScope {
  if (text === 'fleet') return { kind: 'fleet' }
  if (text.startsWith('target:')) return { kind: 'target', id: text.slice(7) }
  if (text.startsWith('region:')) return { kind: 'region', name: text.slice(7) }
  throw new Error(`unknown fault scope ${text}`)
}

/** Checks a fault kind given on the command line or the API. */
export function parseFaultKind(text: string): FaultKind {
  if ((FAULT_KINDS as readonly string[]).includes(text)) return text as FaultKind
  throw new InputError(`--kind "${text}" is not a fault kind; use one of: ${FAULT_KINDS.join(', ')}`)
}

/** The faults that apply to a target in the given regions, at `now`. */
export function faultsFor(
  faults: readonly Fault[],
  target: { readonly id: string; readonly regions: readonly string[] },
  now: Date,
): Fault[] {
  return faults.filter((fault) => {
    if (fault.expiresAt !== null && fault.expiresAt.getTime() <= now.getTime()) return false
    const { scope } = fault
    if (scope.kind === 'fleet') return true
    if (scope.kind === 'target') return scope.id === target.id
    return target.regions.includes(scope.name)
  })
}

/**
 * Throws what an API call of `target` sees under its faults: a region outage fails every call,
 * `api-errors` and `throttling` fail a share of them. All are retryable: they are the cloud's
 * problems, not the request's.
 */
export function failCallUnderFaults(
  faults: readonly Fault[],
  target: { readonly id: string; readonly regions: readonly string[] },
  now: Date,
  random: () => number,
): void {
  for (const fault of faultsFor(faults, target, now)) {
    if (fault.kind === 'region-outage' && fault.scope.kind === 'region') {
      throw new ProviderError(
        'unavailable',
        target.id,
        `region ${fault.scope.name} is unavailable (simulated outage ${fault.id})`,
      )
    }
    if (fault.kind === 'api-errors' && random() < fault.rate) {
      throw new ProviderError(
        'unavailable',
        target.id,
        `InternalFailure: the service failed (simulated fault ${fault.id})`,
      )
    }
    if (fault.kind === 'throttling' && random() < fault.rate) {
      throw new ProviderError(
        'throttled',
        target.id,
        `Throttling: Rate exceeded (simulated fault ${fault.id})`,
      )
    }
  }
}

/** Extra latency of operations for `target`. */
export function extraLatencyMs(
  faults: readonly Fault[],
  target: { id: string; regions: readonly string[] },
  now: Date,
): number {
  return faultsFor(faults, target, now)
    .filter((fault) => fault.kind === 'latency')
    .reduce((sum, fault) => sum + fault.latencyMs, 0)
}

/** Whether a fault of `kind` is on for `target`. */
export function hasFault(
  faults: readonly Fault[],
  target: { readonly id: string; readonly regions: readonly string[] },
  kind: FaultKind,
  now: Date,
): boolean {
  return faultsFor(faults, target, now).some((fault) => fault.kind === kind)
}
