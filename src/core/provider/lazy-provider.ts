/**
 * A provider whose code is loaded the first time a target needs it. The AWS SDK takes about
 * 300 ms to import: every command of a fleet with no aws target would pay that at start-up.
 */

import type { RenderedStack } from '../model/desired-state.ts'
import type { Target } from '../model/fleet-model.ts'
import type { ApplyRequest, CallOptions, Provider, ProviderEvent } from './port.ts'

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
    observe: async (targets: readonly Target[], options?: CallOptions) =>
      (await provider()).observe(targets, options),
    apply: async (request: ApplyRequest) => (await provider()).apply(request),
    settled: async (target: Target, onEvent?: (event: ProviderEvent) => void, options?: CallOptions) =>
      (await provider()).settled(target, onEvent, options),
    health: async (target: Target, options?: CallOptions) => (await provider()).health(target, options),
    snapshots: async () => (await provider()).snapshots(),
    restore: async (snapshotId: string) => (await provider()).restore(snapshotId),
    ...(options.previews
      ? {
          preview: async (
            target: Target,
            stack: RenderedStack,
            exists: boolean,
            callOptions?: CallOptions,
          ) => {
            const loaded = await provider()
            if (!loaded.preview) throw new Error(`provider ${name} has no preview`)
            return loaded.preview(target, stack, exists, callOptions)
          },
        }
      : {}),
    gateEndpoints: async (target: Target) => (await provider()).gateEndpoints?.(target) ?? {},
    // Closing a provider that was never loaded loads nothing.
    close: async () => {
      if (loaded) await (await loaded).close?.()
    },
  }
}
