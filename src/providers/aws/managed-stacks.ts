/**
 * The stacks Flotilla manages in an account, as CloudFormation describes them, and as rendered
 * stacks (what `observe` reports and `apply` compares with): found by the tag `flotilla:address`,
 * other stacks of the account are left alone.
 */
import { DescribeStacksCommand, GetTemplateCommand, type Stack } from '@aws-sdk/client-cloudformation'
import { DiagnosticSink } from '../../core/diagnostics.ts'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import { ProviderError } from '../../core/provider/port.ts'
import { toLongForm } from '../../core/yaml/cfn-tags.ts'
import { parseYamlFile } from '../../core/yaml/parse.ts'
import type { AccountSession } from './account-sessions.ts'
import { sendOptions } from './aws-calls.ts'
import { providerErrorOf } from './aws-errors.ts'

/** The tags that mark a stack as Flotilla's, and what it is to Flotilla. */
export const TAG = {
  address: 'flotilla:address',
  scope: 'flotilla:scope',
  source: 'flotilla:source',
  /** The parameters Flotilla passes: CloudFormation reports the defaulted ones too. */
  parameters: 'flotilla:parameters',
} as const

/** Stack states a stack rests in after a good change. */
export const GOOD = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'])

/** The state of a stack made for a change set that was never executed: not deployed. */
export const REVIEW_IN_PROGRESS = 'REVIEW_IN_PROGRESS'

/** A managed stack as CloudFormation describes it. */
export interface ManagedStack {
  readonly stack: Stack
  readonly address: string
  readonly region: string
}

/** Whether the stack is still changing. */
export function isBusy(m: ManagedStack): boolean {
  return m.stack.StackStatus?.endsWith('_IN_PROGRESS') === true
}

/** The stacks Flotilla manages in the account's regions, by address. */
export async function managedStacks(
  session: AccountSession,
  target: Target,
  signal?: AbortSignal,
): Promise<ManagedStack[]> {
  const out: ManagedStack[] = []
  for (const region of target.regions) {
    const client = session.cloudFormation(region)
    let token: string | undefined
    do {
      const page = await client
        .send(new DescribeStacksCommand({ ...(token ? { NextToken: token } : {}) }), sendOptions(signal))
        .catch((error: unknown) => {
          throw providerErrorOf(error, target.id, `cannot list the stacks of ${target.account} in ${region}`)
        })
      for (const stack of page.Stacks ?? []) {
        const address = stack.Tags?.find((t) => t.Key === TAG.address)?.Value
        if (address?.startsWith(`${target.account}/`) && stack.StackStatus !== 'DELETE_COMPLETE')
          out.push({ stack, address, region })
      }
      token = page.NextToken
    } while (token)
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : 1))
}

/** A managed stack as a rendered one: its template as CloudFormation has it, its parameters. */
export async function renderedStack(
  session: AccountSession,
  target: Target,
  m: ManagedStack,
  signal?: AbortSignal,
): Promise<RenderedStack> {
  const body = await session
    .cloudFormation(m.region)
    .send(
      new GetTemplateCommand({ StackName: m.stack.StackName, TemplateStage: 'Original' }),
      sendOptions(signal),
    )
    .catch((error: unknown) => {
      throw providerErrorOf(error, target.id, `cannot read the template of ${m.address}`, m.address)
    })
  const tag = (key: string) => m.stack.Tags?.find((t) => t.Key === key)?.Value
  const passed = new Set((tag(TAG.parameters) ?? '').split(',').filter(Boolean))
  return {
    address: m.address,
    stackName: m.stack.StackName ?? '',
    region: m.region,
    scope: tag(TAG.scope) === 'global' ? 'global' : 'region',
    source: tag(TAG.source) ?? 'aws',
    parameters: Object.fromEntries(
      (m.stack.Parameters ?? [])
        .filter((p) => passed.has(p.ParameterKey ?? ''))
        .map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? '']),
    ),
    template: parseTemplate(body.TemplateBody ?? '{}', target.id, m.address),
  }
}

/** A template body as CloudFormation returns it: JSON, or YAML with short tags (written by others). */
function parseTemplate(body: string, target: string, address: string): unknown {
  if (body.trimStart().startsWith('{')) return JSON.parse(body)
  const sink = new DiagnosticSink()
  const parsed = parseYamlFile(address, body, sink)
  if (!parsed || sink.errors.length > 0)
    throw new ProviderError(
      'refused',
      target,
      `the template of ${address} in CloudFormation cannot be read: ${sink.errors[0]?.message ?? 'not YAML'}`,
      address,
    )
  return toLongForm(parsed.documents[0]?.value)
}
