import { NotFoundError } from '../errors.ts'
import type { Target } from '../model/fleet-model.ts'
import type { Provider } from './port.ts'

/**
 * Providers by name. Targets choose theirs (`fleet.yaml` `provider`, or the account's own), and
 * every command that touches the fleet asks the registry, so a target whose provider is not
 * configured is a clear error rather than a silent skip.
 */
export class ProviderRegistry {
  private readonly byName = new Map<string, Provider>()

  constructor(providers: readonly Provider[] = []) {
    for (const provider of providers) this.register(provider)
  }

  /** Adds a provider; a second one with the same name is a bug. */
  register(provider: Provider): void {
    if (this.byName.has(provider.name)) throw new Error(`provider "${provider.name}" is registered twice`)
    this.byName.set(provider.name, provider)
  }

  /**
   * Lets `provider` stand in for the provider of another name: the ephemeral fleet of
   * `flotilla test` simulates every target, whichever provider the fleet names for it.
   */
  registerAs(name: string, provider: Provider): void {
    if (this.byName.has(name)) throw new Error(`provider "${name}" is registered twice`)
    this.byName.set(name, provider)
  }

  /** The provider a target uses. @throws NotFoundError when it is not available here. */
  forTarget(target: Target): Provider {
    const provider = this.byName.get(target.provider)
    if (provider) return provider
    const available = [...this.byName.keys()].join(', ') || 'none'
    throw new NotFoundError(
      `${target.kind} "${target.id}" (${target.name}) uses provider "${target.provider}", which is not available in this installation (available: ${available}); set provider: sim in fleet.yaml or on the target to use the simulated fleet`,
    )
  }

  /** The provider of a name, if it is registered. */
  named(name: string): Provider | undefined {
    return this.byName.get(name)
  }

  /** Groups targets by their provider, in the order given. */
  partition(targets: readonly Target[]): Map<Provider, Target[]> {
    const groups = new Map<Provider, Target[]>()
    for (const target of targets) {
      const provider = this.forTarget(target)
      const group = groups.get(provider)
      if (group) group.push(target)
      else groups.set(provider, [target])
    }
    return groups
  }

  /** Every registered provider. */
  all(): Provider[] {
    return [...new Set(this.byName.values())]
  }
}
