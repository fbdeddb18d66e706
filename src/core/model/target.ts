import type { Location } from '../diagnostics.ts'
import type { Channel, Criticality, Environment } from './common.ts'
import type { NodePool } from './inventory.ts'

/** A value of the repository and where it was written. */
export interface Sourced {
  readonly at: Location
}

/** Config item values. */
export type ConfigValue = string | number | boolean

/**
 * A target: something Flotilla deploys to. An account receives stacks; a cluster receives
 * manifests. The fields are the ones selectors, policies and rollout stages see as `target`.
 */
export interface Target extends Sourced {
  readonly id: string
  readonly kind: 'account' | 'cluster'
  /** The account's name or the cluster's alias. */
  readonly name: string
  readonly team: string
  readonly environment: Environment
  readonly criticality: Criticality
  readonly channel: Channel
  readonly group: string
  readonly lifecycle: string
  readonly provider: string
  /** The account id: the account's own, or the one the cluster runs in. */
  readonly account: string
  readonly regions: readonly string[]
  readonly tags: Readonly<Record<string, string>>
  /** Merged config items (for clusters: config-defaults under the cluster's own). */
  readonly config: Readonly<Record<string, ConfigValue>>
  /** A cluster's API server URL from the inventory (`apiServer`), for the kubernetes provider. */
  readonly apiServer?: string
  /** A cluster's control plane version from the inventory, for providers that make its nodes. */
  readonly kubernetesVersion?: string
  /** A cluster's node pools from the inventory, for providers that make its nodes. */
  readonly nodePools?: readonly NodePool[]
  /**
   * An account's clusters, sorted by id: what a provider asked about the account alone needs to
   * know of what runs in it (the simulated fleet serves an account's services from its cluster).
   */
  readonly clusters?: readonly AccountCluster[]
}

/** A cluster as its account's {@link Target} lists it. */
export interface AccountCluster {
  readonly id: string
  readonly region: string
  /** Merged config items of the cluster (as its own target has them). */
  readonly config: Readonly<Record<string, ConfigValue>>
}
