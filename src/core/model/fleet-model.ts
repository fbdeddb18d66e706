import type { Location } from '../diagnostics.ts'
import type { CompiledExpression } from '../expr/cel.ts'
import type { ConfigDefaults } from './cluster-config.ts'
import type { DesiredState } from './desired-state.ts'
import type { FleetSettings } from './fleet.ts'
import type { Gate, PolicyRule, RolloutSpec, Stage } from './index.ts'
import type { Account, Cluster, Team } from './inventory.ts'
import type { SourceRef } from './source.ts'
import type { Sourced, Target } from './target.ts'
import type { TemplateNode } from './template-node.ts'

// The target types are in their own module, which the rendered desired state (a part of the
// loaded fleet) can import without a cycle; re-exported here with the rest of the loaded fleet.
export type { AccountCluster, ConfigValue, Sourced, Target } from './target.ts'

/** A compiled CEL expression and where it was written. */
export interface LocatedExpression {
  readonly expression: CompiledExpression
  readonly at: Location
}

export type LoadedTeam = Team & Sourced

/** An account with its defaults applied (group, cost center, provider). */
export type LoadedAccount = Account & Sourced & { readonly group: string; readonly provider: string }

/** A cluster with what it inherits from its account applied (team, group, tags, provider). */
export type LoadedCluster = Cluster &
  Sourced & {
    readonly team: string
    readonly group: string
    readonly tags: Record<string, string>
    readonly provider: string
  }

/** A stack template from `stacks/*.yaml`, compiled once and rendered per account and region. */
export interface StackTemplate extends Sourced {
  readonly file: string
  readonly stackName: string
  readonly scope: 'region' | 'global'
  readonly select: LocatedExpression | undefined
  readonly movedFrom: string | undefined
  /** Values for template parameters (`Metadata.Parameters`), compiled. */
  readonly parameters: TemplateNode
  /** The CloudFormation template with Flotilla's Metadata keys removed, compiled. */
  readonly body: TemplateNode
  /** Where a path of the template was written (`['Resources', 'Zone', 'Condition']`); the nearest ancestor else. */
  readonly locate: (path: readonly (string | number)[]) => Location
  /** Where `Metadata.MovedFrom` was written, when it is. */
  readonly movedFromAt?: Location
}

/** One YAML document of a component's manifests. */
export interface ManifestDocument extends Sourced {
  readonly file: string
  readonly index: number
  readonly body: TemplateNode
}

/** A cluster component: `cluster/manifests/<name>/`. */
export interface Component extends Sourced {
  readonly name: string
  readonly select: LocatedExpression | undefined
  readonly interpolate: boolean
  readonly documents: readonly ManifestDocument[]
}

export type LoadedPolicyRule = PolicyRule & Sourced & { readonly condition: LocatedExpression }

/** A policy entry named after a built-in safety rule: that rule's findings get this (stricter) effect. */
export interface BuiltinOverride extends Sourced {
  readonly name: string
  readonly effect: PolicyRule['effect']
}

export type LoadedStage = Stage & Sourced & { readonly selector: LocatedExpression }

/** A gate with its `{{ }}` fields (names, run, url, query) and its condition compiled. */
export type LoadedGate = Gate &
  Sourced & {
    readonly templates: Readonly<Record<string, TemplateNode>>
    readonly compiledCondition?: LocatedExpression
  }

export interface LoadedRollout {
  readonly defaults: RolloutSpec['defaults']
  readonly stages: readonly LoadedStage[]
  readonly gates: Readonly<Record<string, LoadedGate>>
}

/**
 * A fleet repository at one revision, completely loaded and valid. There is no partial Fleet:
 * when anything is wrong the loader returns diagnostics instead.
 */
export interface Fleet {
  readonly source: SourceRef
  readonly settings: FleetSettings & Sourced
  readonly teams: ReadonlyMap<string, LoadedTeam>
  readonly accounts: ReadonlyMap<string, LoadedAccount>
  readonly clusters: ReadonlyMap<string, LoadedCluster>
  /** Accounts, then clusters, each sorted by id. */
  readonly targets: readonly Target[]
  readonly configDefaults: ConfigDefaults
  readonly stacks: readonly StackTemplate[]
  readonly components: readonly Component[]
  readonly policies: readonly LoadedPolicyRule[]
  /** Built-in safety rules made stricter by policy files. */
  readonly policyOverrides: readonly BuiltinOverride[]
  readonly rollout: LoadedRollout
  /** Stage name per target id (the first stage that selects the target). */
  readonly stageOf: ReadonlyMap<string, string>
  /** Every target's rendered desired state, by target id (empty for targets that receive nothing). */
  readonly desired: ReadonlyMap<string, DesiredState>
}
