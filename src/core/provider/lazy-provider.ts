/**
 * A provider whose code is loaded the first time a target needs it. The AWS SDK takes about
 * 300 ms to import: every command of a fleet with no aws target would pay that at start-up.
 */
import type { Target } from '../model/fleet-model.ts'
import type { ApplyRequest, Provider } from './port.ts'

/** `name`'s provider, made by `load` on first use (once). */
export function lazyProvider(name: string, load: () => Promise<Provider>): Provider {
  let loaded: Promise<Provider> | undefined
  const provider = () => {
    loaded ??= load()
    return loaded
  }
  return {
    name,
    observe: async (targets: readonly Target[]) => (await provider()).observe(targets),
    apply: async (request: ApplyRequest) => (await provider()).apply(request),
    settled: async (target: Target) => (await provider()).settled(target),
    health: async (target: Target) => (await provider()).health(target),
    snapshots: async () => (await provider()).snapshots(),
    restore: async (snapshotId: string) => (await provider()).restore(snapshotId),
  }
}
