import type { Application } from '../../app/application.ts'
import {
  FAULT_DESCRIPTIONS,
  type Fault,
  type FaultKind,
  type FaultScope,
  parseFaultKind,
  SimServiceMetrics,
  type SimStatus,
  type Simulator,
  startAwsServer,
  startDnsServer,
  startKubernetesServer,
  startMetricsServer,
} from '../../app/simulator.ts'
import { ConflictError, InputError } from '../../core/errors.ts'
import type { Fleet } from '../../core/model/fleet-model.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import { withApplication } from '../application.ts'
import type {
  SimFaultOptions,
  SimImageOptions,
  SimResetOptions,
  SimServeOptions,
  SimSettingsOptions,
  SimStatusOptions,
} from '../declarations.ts'
import { findTarget } from '../inputs.ts'
import type { CliIo } from '../io.ts'
import { cliOperator } from '../operator.ts'
import { loadValidFleet } from '../repository.ts'
import { untilStopped } from '../until-stopped.ts'

/** Loads the repository's inventory to seed the simulated fleet, if it is valid; a broken one is reported and skipped. */
async function seedFromRepository(
  options: { readonly repo?: string | undefined },
  io: CliIo,
  seed: (fleet: Fleet) => Promise<number>,
) {
  try {
    const { fleet } = await loadValidFleet(options.repo ? { repo: options.repo } : {}, io.cwd)
    return { fleet, added: await seed(fleet) }
  } catch (error) {
    if (!(error instanceof Error) || !('kind' in error)) throw error
    io.stderr(`note: not seeding from the repository: ${error.message.split('\n')[0]}\n`)
    return { fleet: undefined, added: 0 }
  }
}

/** The simulated fleet of the application; `flotilla sim` has nothing to do without it. */
function simulatorIn(app: Application): Simulator {
  const sim = app.simulator()
  if (!sim) throw new InputError('the simulated fleet is not one of the providers here')
  return sim
}

/** `flotilla sim status`: targets, stacks by state, zones, records, services, faults. */
export async function simStatusCommand(options: SimStatusOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const sim = simulatorIn(app)
    const { added } = await seedFromRepository(options, io, (fleet) =>
      sim.seed(fleet.targets, fleet.clusters),
    )
    const status = await sim.status()
    if (options.format === 'json') io.stdout(`${JSON.stringify({ ...status, seeded: added }, null, 2)}\n`)
    else io.stdout(formatStatus(status, app.location, added))
    return 0
  })
}

function formatStatus(status: SimStatus, location: string, added: number): string {
  const lines = [
    `Simulated fleet in ${location}${added > 0 ? ` (${added} targets seeded from the inventory just now)` : ''}`,
    `  targets:   ${status.targets.accounts} accounts, ${status.targets.clusters} clusters`,
    `  stacks:    ${
      Object.entries(status.stacks)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') || 'none'
    }`,
    `  objects:   ${status.objects.total} (${status.objects.ready} ready)`,
    `  zones:     ${status.zones} with ${status.records.total} record sets (${status.records.externalDns} from external-dns)`,
    `  services:  ${status.services.healthy} of ${status.services.total} healthy${status.services.down.length ? `; down: ${status.services.down.join(', ')}` : ''}${status.services.notDeployed ? ` (${status.services.notDeployed} not deployed yet)` : ''}`,
    `  snapshots: ${status.snapshots}`,
    `  latency:   scale ${status.settings.latencyScale}`,
    `  faults:    ${status.faults.length === 0 ? 'none' : status.faults.length}`,
    ...status.faults.map(
      (f) =>
        `    ${f.id}  ${f.kind} on ${f.scope.kind === 'fleet' ? 'the fleet' : f.scope.kind === 'target' ? f.scope.id : `region ${f.scope.name}`}${f.kind === 'api-errors' || f.kind === 'throttling' ? ` at rate ${f.rate}` : ''}${f.kind === 'latency' ? ` +${f.latencyMs} ms` : ''}${f.expiresAt ? ` until ${f.expiresAt.toISOString()}` : ''}`,
    ),
  ]
  return `${lines.join('\n')}\n`
}

/** `flotilla sim fault`: injects a fault (or clears faults with `--clear`). */
export async function simFaultCommand(options: SimFaultOptions, io: CliIo): Promise<number> {
  if (options.target !== undefined && options.region !== undefined) {
    throw new InputError('give --target or --region, not both')
  }
  // Everything is checked before the store is opened: a mistake is reported as itself, at once,
  // even while another process holds the embedded store.
  let scope: FaultScope = { kind: 'fleet' }
  let fleet: Fleet | undefined
  if (options.target !== undefined) {
    fleet = (await loadValidFleet(options.repo ? { repo: options.repo } : {}, io.cwd)).fleet
    scope = { kind: 'target', id: findTarget(fleet, options.target).id }
  } else if (options.region !== undefined) {
    scope = { kind: 'region', name: options.region }
  }
  const fault = options.clear ? undefined : checkFault(options, scope)
  return withApplication(options, io, async (app) => {
    const sim = simulatorIn(app)
    if (fault === undefined) {
      const cleared = await sim.clearFaults({
        ...(options.id ? { id: options.id } : {}),
        ...(options.target !== undefined || options.region !== undefined ? { scope } : {}),
      })
      await audit(app, io, 'sim-fault-clear', scopeName(scope), { cleared })
      io.stdout(
        options.format === 'json'
          ? `${JSON.stringify({ cleared })}\n`
          : `Cleared ${cleared} ${cleared === 1 ? 'fault' : 'faults'}.\n`,
      )
      return 0
    }
    const { kind, rate } = fault
    const result = await sim.addFault(
      {
        scope,
        kind,
        rate,
        ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
        ...(options.for !== undefined ? { expiresAt: new Date(Date.now() + options.for * 1000) } : {}),
      },
      fleet?.targets ?? [],
    )
    await audit(app, io, 'sim-fault', scopeName(scope), {
      kind,
      rate,
      ...(result.fault ? { id: result.fault.id } : {}),
      ...(result.drifted ? { drifted: result.drifted } : {}),
    })
    if (options.format === 'json') io.stdout(`${JSON.stringify(result, null, 2)}\n`)
    else if (result.drifted)
      io.stdout(`Changed ${result.drifted} outside Flotilla; "flotilla plan" reports the drift.\n`)
    else
      io.stdout(
        `Injected ${result.fault!.id}: ${describeFault(result.fault!)} on ${scopeName(scope)}.\nClear it with: flotilla sim fault --clear --id ${result.fault!.id}\n`,
      )
    return 0
  })
}

/** Checks the fault `sim fault` is asked to inject. */
function checkFault(options: SimFaultOptions, scope: FaultScope): { kind: FaultKind; rate: number } {
  if (options.kind === undefined)
    throw new InputError(`--kind is required; one of: ${Object.keys(FAULT_DESCRIPTIONS).join(', ')}`)
  const kind = parseFaultKind(options.kind)
  if (kind === 'region-outage' && scope.kind !== 'region')
    throw new InputError('--kind region-outage needs --region NAME (e.g. --region eu-central-1)')
  const rate = options.rate === undefined ? 1 : numberOf(options.rate)
  if (!Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new InputError(
      `--rate "${options.rate}" must be a number from 0 to 1 (the share of calls that fail)`,
    )
  if (kind === 'latency' && !options.latencyMs)
    throw new InputError('--kind latency needs --latency-ms N (extra milliseconds per operation)')
  return { kind, rate }
}

/** A number given on the command line; a blank one is not 0 (as `Number('')` would have it). */
function numberOf(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text)
}

/** A fault in a few words: its kind and its strength. */
function describeFault(fault: Fault): string {
  if (fault.kind === 'api-errors' || fault.kind === 'throttling') return `${fault.kind} at rate ${fault.rate}`
  if (fault.kind === 'latency') return `latency +${fault.latencyMs} ms`
  return fault.kind
}

function scopeName(scope: FaultScope): string {
  return scope.kind === 'fleet'
    ? 'the whole fleet'
    : scope.kind === 'target'
      ? scope.id
      : `region ${scope.name}`
}

async function audit(
  app: Application,
  io: CliIo,
  action: string,
  subject: string,
  detail: Record<string, unknown>,
) {
  await appendAuditEntry(app.db, {
    actor: cliOperator(io).actor,
    action,
    subject,
    source: 'cli',
    detail: detail as never,
  })
}

/** `flotilla sim reset`: forgets the simulated fleet (stacks, zones, objects, faults, its snapshots). */
export async function simResetCommand(options: SimResetOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const sim = simulatorIn(app)
    await sim.reset()
    await audit(app, io, 'sim-reset', 'sim', {})
    io.stdout('The simulated fleet is empty again; it is seeded from the inventory on next use.\n')
    return 0
  })
}

/**
 * `flotilla sim image [--add REF…]`: pushes images to the simulated registry, so the simulated
 * clusters' nodes can pull them; without `--add`, says which images it has besides the built-in ones.
 */
export async function simImageCommand(options: SimImageOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const sim = simulatorIn(app)
    const added = options.add ?? []
    if (added.length > 0) {
      const pushed = await sim.pushImages(added)
      await audit(app, io, 'sim-image', 'sim', { images: pushed })
      for (const image of pushed) io.stdout(`Pushed ${image} to the simulated registry.\n`)
      return 0
    }
    const images = await sim.pushedImages()
    io.stdout(
      options.format === 'json'
        ? `${JSON.stringify(images)}\n`
        : images.length === 0
          ? 'No images pushed; the registry has its built-in images only (see docs/simulated-fleet.md).\n'
          : `${images.join('\n')}\n`,
    )
    return 0
  })
}

/** `flotilla sim settings [--latency-scale X]`: shows or changes the simulator's settings. */
export async function simSettingsCommand(options: SimSettingsOptions, io: CliIo): Promise<number> {
  const scale = options.latencyScale === undefined ? undefined : numberOf(options.latencyScale)
  if (scale !== undefined && (!Number.isFinite(scale) || scale < 0 || scale > 100)) {
    throw new InputError(`--latency-scale "${options.latencyScale}" must be a number from 0 (instant) to 100`)
  }
  return withApplication(options, io, async (app) => {
    const sim = simulatorIn(app)
    let settings = await sim.settings()
    if (scale !== undefined) {
      settings = await sim.updateSettings({ latencyScale: scale })
      await audit(app, io, 'sim-settings', 'sim', { latencyScale: scale })
    }
    io.stdout(
      options.format === 'json'
        ? `${JSON.stringify(settings)}\n`
        : `latency scale: ${settings.latencyScale}\n`,
    )
    return 0
  })
}

/**
 * What `sim serve` runs with: its declared options — each may be left out by a caller in this
 * process (a test), defaults apply — and how often it picks up changes from the store
 * (milliseconds, not a flag). @default 500 ms
 */
export type SimServeRun = Partial<SimServeOptions> & { readonly refreshMs?: number }

/**
 * `flotilla sim serve`: serves the simulator's endpoints in the foreground — its DNS server, its
 * AWS-compatible endpoint (CloudFormation, Route 53, STS for the AWS SDK) and the Prometheus
 * metrics of its services — and prints them as one JSON line first:
 * `{"dns":"127.0.0.1:PORT","aws":"http://127.0.0.1:PORT","metrics":"http://127.0.0.1:PORT/metrics"}`. Zones are re-read from
 * the store whenever they change (other processes on a shared PostgreSQL apply, restore, inject
 * faults meanwhile); every scrape reads the services' health afresh. Stops on SIGINT or SIGTERM,
 * or when `signal` aborts.
 */
export async function simServeCommand(
  options: SimServeRun,
  io: CliIo,
  signal?: AbortSignal,
): Promise<number> {
  return withApplication(options, io, async (app) => {
    const sim = simulatorIn(app)
    await seedFromRepository({ ...options }, io, (fleet) => sim.seed(fleet.targets, fleet.clusters))
    let zones = await sim.zones()
    const lookup = { findZone: (name: string) => zones.findZone(name) }
    const host = options.host ?? '127.0.0.1'
    const port = options.dnsPort ?? 0
    const server = await startDnsServer({ host, port, zones: lookup }).catch((error: unknown) => {
      throw listenError(error, host, port, 'UDP', '--dns-port')
    })
    const awsPort = options.awsPort ?? 0
    const aws = await startAwsServer({ host, port: awsPort, db: app.db, sim }).catch(
      async (error: unknown) => {
        await server.close()
        throw listenError(error, host, awsPort, 'TCP', '--aws-port')
      },
    )
    const kubernetesPort = options.kubernetesPort ?? 0
    const kubernetes = await startKubernetesServer({
      host,
      port: kubernetesPort,
      db: app.db,
      sim,
    }).catch(async (error: unknown) => {
      await Promise.all([server.close(), aws.close()])
      throw listenError(error, host, kubernetesPort, 'TCP', '--kubernetes-port')
    })
    const metricsPort = options.metricsPort ?? 0
    const metrics = await startMetricsServer({
      host,
      port: metricsPort,
      metrics: new SimServiceMetrics({ db: app.db, sim }),
    }).catch(async (error: unknown) => {
      await Promise.all([server.close(), aws.close(), kubernetes.close()])
      throw listenError(error, host, metricsPort, 'TCP', '--metrics-port')
    })
    const endpoints = {
      dns: server.address,
      aws: aws.url,
      kubernetes: await kubernetes.clusterUrls(),
      metrics: metrics.url,
    }
    io.stdout(`${JSON.stringify(endpoints)}\n`)
    try {
      // The simulator runs on here: operations that came due settle, and DNS follows.
      await untilStopped(
        options.refreshMs ?? 500,
        async () => {
          await sim.settle()
          zones = await sim.zones()
        },
        signal ?? io.interrupt,
      )
    } finally {
      await Promise.all([server.close(), aws.close(), kubernetes.close(), metrics.close()])
    }
    return 0
  })
}

/** A socket that cannot listen is the user's to fix (another port or address), not a bug. */
function listenError(
  error: unknown,
  host: string,
  port: number,
  protocol: 'UDP' | 'TCP',
  option: '--dns-port' | '--aws-port' | '--kubernetes-port' | '--metrics-port',
): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EADDRINUSE')
    return new ConflictError(
      `${protocol} port ${port} on ${host} is in use (another "flotilla sim serve"?); choose another with ${option}, or leave it out for any free port`,
      { cause: error },
    )
  if (code === 'EACCES')
    return new InputError(`no permission to listen on ${host}:${port}; choose another ${option}`, [], {
      cause: error,
    })
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EINVAL')
    return new InputError(`--host ${host} is not an address of this machine (${code})`, [], { cause: error })
  return error
}
