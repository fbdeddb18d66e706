/**
 * The simulated CloudFormation's stack settings: UpdateTerminationProtection, SetStackPolicy,
 * GetStackPolicy.
 */
import { updateStack } from '../sim-stacks.ts'
import type { AwsCall } from './aws-call.ts'
import { validationError } from './aws-errors.ts'
import { parseStackPolicy } from './change-sets.ts'
import { findStack, required, stackId, stackRow } from './cloudformation-call.ts'
import type { XmlObject } from './xml.ts'

export async function updateTerminationProtection(call: AwsCall): Promise<XmlObject> {
  const name = required(call, 'StackName')
  const enable = required(call, 'EnableTerminationProtection')
  if (enable !== 'true' && enable !== 'false')
    throw validationError(`EnableTerminationProtection must be true or false, not ${enable}`)
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  await updateStack(call.db, stack.address, { termination_protection: enable === 'true' })
  return { StackId: stackId(call, stack) }
}

export async function setStackPolicy(call: AwsCall): Promise<XmlObject> {
  const name = required(call, 'StackName')
  if (call.params.has('StackPolicyURL'))
    throw validationError('StackPolicyURL is not supported by the simulated fleet; pass StackPolicyBody')
  const policy = parseStackPolicy(required(call, 'StackPolicyBody'))
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  await updateStack(call.db, stack.address, { stack_policy: JSON.stringify(policy) })
  return {}
}

export async function getStackPolicy(call: AwsCall): Promise<XmlObject> {
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  const policy = (await stackRow(call, stack.address)).stack_policy
  return { StackPolicyBody: policy === null ? undefined : JSON.stringify(policy) }
}
