/**
 * A provider whose code is loaded the first time a target needs it. The AWS SDK takes about
 * 300 ms to import: every command of a fleet with no aws target would pay that at start-up.
 */
import type { Target } from '../model/fleet-model.ts'
import type { RenderedStack } from '../render/desired-state.ts'
import type { ApplyRequest, Provider, ProviderEvent } from './port.ts'

/**
 * `name`'s provider, made by `load` on first use (once). `previews` says whether the provider
 * will have `preview`, which must be known before it is loaded.
 */
export function lazyProvider(
  name: string,
  load: () => Promise<Provider>,
  options: { readonly previews?: boolean } = {},
): Provider {
  let loaded: Promise<Provider> | undefined
  const provider = () => {
    loaded ??= load()
    return loaded
  }
  return {
    name,
    observe: async (targets: readonly Target[]) => (await provider()).observe(targets),
    apply: async (request: ApplyRequest) => (await provider()).apply(request),
    settled: async (target: Target, onEvent?: (event: ProviderEvent) => void) =>
      (await provider()).settled(target, onEvent),
    health: async (target: Target) => (await provider()).health(target),
    snapshots: async () => (await provider()).snapshots(),
    restore: async (snapshotId: string) => (await provider()).restore(snapshotId),
    ...(options.previews
      ? {
          preview: async (target: Target, stack: RenderedStack, exists: boolean) => {
            const loaded = await provider()
            if (!loaded.preview) throw new Error(`provider ${name} has no preview`)
            return loaded.preview(target, stack, exists)
          },
        }
      : {}),
  }
}
