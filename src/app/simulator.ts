/**
 * The simulated fleet's extras (faults, images, settings, status, its endpoints), for the faces
 * that offer them: `flotilla sim`, the server's `/api/sim/…`, `npm start`'s bootstrap and the
 * drill. The simulator is a provider like any other behind the port; this is the one place that
 * knows how to reach what it offers besides the port.
 */
import type { Kysely } from 'kysely'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import type { Database } from '../store/tables.ts'

// What the faces use of the simulator besides the port: its endpoints (`flotilla sim serve`), its
// faults (`flotilla sim fault`, `/api/sim/faults`), its status, and a metrics endpoint.
export { startAwsServer } from '../providers/sim/aws/aws-server.ts'
export { startDnsServer } from '../providers/sim/dns-server.ts'
export {
  FAULT_DESCRIPTIONS,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type FaultScope,
  parseFaultKind,
} from '../providers/sim/faults.ts'
export { startKubernetesServer } from '../providers/sim/kubernetes/kubernetes-server.ts'
export { SimServiceMetrics, startMetricsServer } from '../providers/sim/metrics-server.ts'
export type { SimServiceState, SimStatus } from '../providers/sim/sim-provider.ts'

/** What the simulated fleet offers besides the provider port. */
export type Simulator = SimProvider

/** The simulated fleet of `registry`, when it has one. */
export function simulatorOf(registry: ProviderRegistry): Simulator | undefined {
  const sim = registry.named('sim')
  return sim instanceof SimProvider ? sim : undefined
}

/** A simulated fleet over `db`, for a sandbox that composes its own application (the drill). */
export function simulatedFleet(db: Kysely<Database>): Simulator {
  return new SimProvider({ db })
}
