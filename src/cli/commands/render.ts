import { evaluateStack } from '../../core/cloudformation/evaluate-stack.ts'
import { NotFoundError } from '../../core/errors.ts'
import type { Fleet, Target } from '../../core/model/fleet-model.ts'
import type { RenderedStack } from '../../core/render/desired-state.ts'
import { closest } from '../../core/suggest.ts'
import { toLongForm } from '../../core/yaml/cfn-tags.ts'
import { toYaml } from '../../core/yaml/emit.ts'
import type { CliIo, Format } from '../io.ts'
import { loadValidFleet, type RepositoryOptions } from '../repository.ts'

export interface RenderOptions extends RepositoryOptions {
  /** A target id, account name or cluster alias. */
  readonly target: string
  readonly format?: Format
  /** Stacks as CloudFormation will create them: conditions evaluated, known intrinsics resolved. */
  readonly evaluated?: boolean
}

/**
 * `flotilla render --target ID`: prints one target's rendered desired state — its stacks (with
 * parameters and templates, short tags kept) or its manifests. JSON output uses CloudFormation's
 * long form for intrinsic functions, as the CloudFormation API does.
 */
export async function renderCommand(options: RenderOptions, io: CliIo): Promise<number> {
  const { fleet } = await loadValidFleet(options, io.cwd)
  const target = findTarget(fleet, options.target)
  const state = fleet.desired.get(target.id)!
  const document = {
    target: {
      id: target.id,
      kind: target.kind,
      name: target.name,
      team: target.team,
      environment: target.environment,
      criticality: target.criticality,
      channel: target.channel,
      group: target.group,
      lifecycle: target.lifecycle,
      provider: target.provider,
      account: target.account,
      regions: target.regions,
      stage: fleet.stageOf.get(target.id) ?? null,
      tags: target.tags,
      config: target.config,
    },
    ...(target.kind === 'account'
      ? { stacks: options.evaluated ? state.stacks.map(evaluatedView) : state.stacks }
      : {
          manifests: state.manifests.map((m) => ({
            address: m.address,
            component: m.component,
            source: m.source,
            object: m.object,
          })),
        }),
  }
  io.stdout(
    options.format === 'json' ? `${JSON.stringify(toLongForm(document), null, 2)}\n` : toYaml(document),
  )
  return 0
}

/**
 * A stack as CloudFormation will create it in its account and region: each condition's value,
 * the resources that exist (intrinsics resolved where known), and those a false condition leaves out.
 */
function evaluatedView(stack: RenderedStack): Record<string, unknown> {
  const evaluated = evaluateStack(stack)
  return {
    address: stack.address,
    stackName: stack.stackName,
    region: stack.region,
    source: stack.source,
    parameters: stack.parameters,
    ...(evaluated.conditions.size > 0 ? { conditions: Object.fromEntries(evaluated.conditions) } : {}),
    resources: evaluated.resources,
    ...(evaluated.excluded.size > 0 ? { excluded: Object.fromEntries(evaluated.excluded) } : {}),
  }
}

/** Finds a target by id, account name or cluster alias; suggests the closest when there is none. */
export function findTarget(fleet: Fleet, wanted: string): Target {
  const found = fleet.targets.find((t) => t.id === wanted) ?? fleet.targets.find((t) => t.name === wanted)
  if (found) return found
  const names = fleet.targets.flatMap((t) => [t.id, t.name])
  const near = closest(wanted, names)
  throw new NotFoundError(
    `no target "${wanted}" in the fleet${near ? `; did you mean "${near}"?` : ''} (give an account id or name, or a cluster id or alias)`,
  )
}
