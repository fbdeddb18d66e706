import type { Location } from '../diagnostics.ts'
import type { RotationLimits } from './node-rotation.ts'
import type { Target } from './target.ts'

/** A stack as it is to exist in one account and region. */
export interface RenderedStack {
  /** `<accountId>/<region>/<StackName>`; the region is `global` for `Scope.Type: global` stacks. */
  readonly address: string
  readonly stackName: string
  /** The region the stack is deployed to (a global stack goes to the account's first region). */
  readonly region: string
  readonly scope: 'region' | 'global'
  /** The stack file it was rendered from. */
  readonly source: string
  readonly movedFrom?: string
  /** Where `Metadata.MovedFrom` was written (rendered stacks only). */
  readonly movedFromAt?: Location
  /** Template parameter values as CloudFormation receives them (strings; lists joined by commas). */
  readonly parameters: Readonly<Record<string, string>>
  /** The rendered template, short tags kept. */
  readonly template: unknown
}

/** A Kubernetes object as it is to exist in one cluster. */
export interface RenderedManifest {
  /** `<clusterId>/<namespace|_>/<Kind>/<name>`. */
  readonly address: string
  readonly component: string
  readonly source: string
  /**
   * Where the object's document is (a `kind: List` item: the list's): what a problem with the
   * object points at. Absent for objects a provider observed.
   */
  readonly at?: Location
  readonly object: Readonly<Record<string, unknown>>
}

/** A node as a cluster reports it. */
export interface NodeState {
  readonly name: string
  /** The kubelet's minor version, as the inventory writes it: `1.31`. */
  readonly version: string
  readonly instanceType: string
  readonly profile: string
}

/** A node pool: as the inventory declares it, and (observed) the nodes it has. */
export interface NodePoolState {
  readonly name: string
  readonly profile: string
  readonly instanceTypes: readonly string[]
  readonly min: number
  readonly max: number
  /** Observed only: the pool's nodes. */
  readonly nodes?: readonly NodeState[]
  /** Observed only: whether StatefulSet pods run on the pool (its rotations are budgeted). */
  readonly stateful?: boolean
  /** Observed only: rotations of the pool started this calendar month (UTC). */
  readonly rotationsThisMonth?: number
}

/** A cluster's control plane version and node pools. */
export interface ClusterNodes {
  /** The control plane's minor version: `1.31`. */
  readonly kubernetesVersion: string
  readonly pools: readonly NodePoolState[]
  /** Desired only: how a rotation of this cluster's nodes is limited. */
  readonly rotation?: RotationLimits
}

/** Everything a target should have: stacks for an account, manifests (and nodes) for a cluster. */
export interface DesiredState {
  readonly target: Target
  readonly stacks: readonly RenderedStack[]
  readonly manifests: readonly RenderedManifest[]
  /** A cluster's version and node pools (absent for accounts, and when a provider cannot tell). */
  readonly nodes?: ClusterNodes
}
