/**
 * The simulated CloudFormation query API (`Action=…`, form-encoded POST, XML in the
 * `http://cloudformation.amazonaws.com/doc/2010-05-15/` namespace), on the simulated fleet's own
 * stacks: what a change set executes becomes the same `*_IN_PROGRESS` operation `flotilla apply`
 * starts on the simulator, settles after the same latency, and is what `flotilla sim status`,
 * `plan` and the DNS server see.
 *
 * A stack is found by name (or stack id) among the account's stacks in the request's region; a
 * stack created here is at address `<account>/<region>/<StackName>`. A stack whose first change
 * set was created and not executed yet is shown as `REVIEW_IN_PROGRESS` (it is not a stack of
 * the simulator until it is executed, so plans never see an empty stack).
 */
import type { AwsCall } from './aws-call.ts'
import {
  createChangeSet,
  deleteChangeSet,
  describeChangeSet,
  executeChangeSet,
  listChangeSets,
} from './cloudformation-change-sets.ts'
import {
  getStackPolicy,
  setStackPolicy,
  updateTerminationProtection,
} from './cloudformation-stack-settings.ts'
import {
  deleteStack,
  describeStackEvents,
  describeStackResources,
  describeStacks,
  getTemplate,
  listStacks,
} from './cloudformation-stacks.ts'
import type { XmlObject } from './xml.ts'

export { parseTemplate } from './cloudformation-templates.ts'

/** The namespace of CloudFormation's XML. */
export const CLOUDFORMATION_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'

type Action = (call: AwsCall) => Promise<XmlObject | undefined>

/** The actions of the simulated CloudFormation, by name. */
export const cloudFormationActions: Readonly<Record<string, Action>> = {
  CreateChangeSet: createChangeSet,
  DescribeChangeSet: describeChangeSet,
  ExecuteChangeSet: executeChangeSet,
  DeleteChangeSet: deleteChangeSet,
  ListChangeSets: listChangeSets,
  DescribeStacks: describeStacks,
  DescribeStackEvents: describeStackEvents,
  ListStacks: listStacks,
  GetTemplate: getTemplate,
  DescribeStackResources: describeStackResources,
  DeleteStack: deleteStack,
  UpdateTerminationProtection: updateTerminationProtection,
  SetStackPolicy: setStackPolicy,
  GetStackPolicy: getStackPolicy,
}
