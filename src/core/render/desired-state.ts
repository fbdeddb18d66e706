import type { Target } from '../model/fleet-model.ts'

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
  readonly object: Readonly<Record<string, unknown>>
}

/** Everything a target should have: stacks for an account, manifests for a cluster. */
export interface DesiredState {
  readonly target: Target
  readonly stacks: readonly RenderedStack[]
  readonly manifests: readonly RenderedManifest[]
}
