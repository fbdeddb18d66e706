import type { RenderedStack } from '../model/desired-state.ts'
import { toLongForm } from '../yaml/cfn-tags.ts'
import { asObject, type EvaluatedTemplate, evaluateTemplate } from './evaluate.ts'

const memo = new WeakMap<RenderedStack, EvaluatedTemplate>()

/**
 * A rendered stack's template evaluated for its own account, region, name and parameter values
 * (the stack's `Metadata.Parameters` over the template's defaults). Computed once per stack
 * object: validation, the plan's differ and `render --evaluated` share it.
 */
export function evaluateStack(stack: RenderedStack): EvaluatedTemplate {
  let evaluated = memo.get(stack)
  if (!evaluated) {
    const template = longFormTemplate(stack)
    evaluated = evaluateTemplate(template, {
      parameters: new Map(Object.entries(stack.parameters)),
      accountId: stack.address.slice(0, stack.address.indexOf('/')),
      region: stack.region,
      stackName: stack.stackName,
    })
    memo.set(stack, evaluated)
  }
  return evaluated
}

/** A stack's template in long form (`{ "Fn::Sub": … }`), as CloudFormation and the differ see it. */
export function longFormTemplate(stack: RenderedStack | undefined): Record<string, unknown> {
  return stack ? asObject(toLongForm(stack.template)) : {}
}
