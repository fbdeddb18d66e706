import { evaluateStack } from '../../core/cloudformation/evaluate-stack.ts'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import { toLongForm } from '../../core/yaml/cfn-tags.ts'
import { toYaml } from '../../core/yaml/emit.ts'
import { loadWithParseCache } from '../cached-load.ts'
import type { RenderOptions } from '../declarations.ts'
import { findTarget } from '../inputs.ts'
import type { CliIo } from '../io.ts'
import { invalidFleetError } from '../repository.ts'

/**
 * `flotilla render --target ID`: renders that target alone (not the fleet) and prints its desired state — its stacks (with
 * parameters and templates, short tags kept) or its manifests. JSON output uses CloudFormation's
 * long form for intrinsic functions, as the CloudFormation API does.
 */
export async function renderCommand(options: RenderOptions, io: CliIo): Promise<number> {
  // Only the wanted target is rendered (by id, else by name: findTarget's order picks between them).
  const wanted = options.target
  const { source, result } = await loadWithParseCache(options, io.cwd, {
    renderOnly: (t) => t.id === wanted || t.name === wanted,
  })
  if (!result.ok) throw invalidFleetError(options, source, result)
  const { fleet } = result
  const target = findTarget(fleet, wanted)
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
