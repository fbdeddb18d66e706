import { describe, expect, test } from 'vitest'
import { accountPlan, change, planOf, prop } from '../../../test/support/plan-fixtures.ts'
import type { StackPreview } from '../provider/port.ts'
import { mergeCloudPreview } from './cloud-preview.ts'
import { renderPlanMarkdown } from './render-markdown.ts'
import { renderPlanText } from './render-text.ts'

const A = '111111111111'
const B = '222222222222'
const stack = (account: string) => `${account}/eu-central-1/app`

/** Two accounts with the same changes: a table updated in place, a bucket created, a topic deleted. */
function twoAccounts() {
  const changes = (a: string) => [
    change('update', `${stack(a)}/Table`, 'AWS::DynamoDB::Table', {
      properties: [prop('BillingMode', 'PROVISIONED', 'PAY_PER_REQUEST')],
    }),
    change('create', `${stack(a)}/Bucket`, 'AWS::S3::Bucket', {
      properties: [prop('BucketName', null, 'b')],
    }),
    change('delete', `${stack(a)}/Topic`, 'AWS::SNS::Topic'),
  ]
  return planOf([accountPlan(A, changes(A)), accountPlan(B, changes(B))], { totalTargets: 2 })
}

/** What a cloud that agrees says of one account's stack, with `table` for the table. */
function preview(account: string, table: { replacement: 'True' | 'False' | 'Conditional' }): StackPreview {
  return {
    address: stack(account),
    outcome: 'previewed',
    changes: [
      {
        address: `${stack(account)}/Table`,
        type: 'AWS::DynamoDB::Table',
        action: 'Modify',
        ...table,
        ...(table.replacement === 'False' ? {} : { policyAction: 'ReplaceAndDelete' }),
      },
      { address: `${stack(account)}/Bucket`, type: 'AWS::S3::Bucket', action: 'Add' },
      {
        address: `${stack(account)}/Topic`,
        type: 'AWS::SNS::Topic',
        action: 'Remove',
        policyAction: 'Delete',
      },
    ],
  }
}

describe('mergeCloudPreview', () => {
  test('a cloud that agrees: each change gets its view, no finding, the verdict stays', () => {
    const plan = twoAccounts()
    const merged = mergeCloudPreview(plan, {
      previews: new Map([
        [A, [preview(A, { replacement: 'False' })]],
        [B, [preview(B, { replacement: 'False' })]],
      ]),
      failures: [],
      skipped: [{ reason: 'clusters on provider sim', count: 3 }],
    })
    expect(merged.findings).toEqual(plan.findings)
    expect(merged.verdict).toBe(plan.verdict)
    expect(merged.cloudPreview).toEqual({
      stacks: 2,
      accounts: 2,
      agreed: 6,
      disagreements: 0,
      skipped: [{ reason: 'clusters on provider sim', count: 3 }],
    })
    expect(merged.targets[0]!.changes.map((c) => c.cloud)).toEqual([
      { action: 'Modify', replacement: 'False' },
      { action: 'Add' },
      { action: 'Remove', policyAction: 'Delete' },
    ])
    const text = renderPlanText(merged, { color: false })
    expect(text).toContain('(cloud: update in place)')
    expect(text).toContain('(cloud: delete (Delete))')
    expect(text).toContain(
      'Cloud preview: 2 stacks in 2 accounts; 6 changes as predicted, 0 disagreements; not previewed: 3 clusters on provider sim.',
    )
    expect(renderPlanMarkdown(merged)).toContain(
      '| Cloud preview | 2 stacks in 2 accounts; 6 changes as predicted, 0 disagreements; not previewed: 3 clusters on provider sim. |',
    )
  })

  test('a replacement the plan did not predict denies, one finding for every account it is in', () => {
    const merged = mergeCloudPreview(twoAccounts(), {
      previews: new Map([
        [A, [preview(A, { replacement: 'True' })]],
        [B, [preview(B, { replacement: 'Conditional' })]],
      ]),
      failures: [],
      skipped: [],
    })
    expect(merged.verdict).toBe('denied')
    expect(merged.findings.map((f) => [f.rule, f.effect, f.addresses])).toEqual([
      ['cloud-preview', 'deny', [`${stack(A)}/Table`]],
      ['cloud-preview', 'deny', [`${stack(B)}/Table`]],
    ])
    expect(merged.findings[0]!.message).toBe(
      'CloudFormation would replace (ReplaceAndDelete) AWS::DynamoDB::Table Table of stack app, which the plan shows as an update in place: a rollout would refuse this change set. ' +
        'Find out why (a property the type schema takes for mutable, a value only the cloud resolves), fix the template, and plan again.',
    )
    expect(merged.findings[1]!.message).toContain('would maybe replace (ReplaceAndDelete)')
    expect(merged.cloudPreview).toMatchObject({ agreed: 4, disagreements: 2 })
  })

  test('a gentler cloud, a change only the cloud sees, a refused change set and a failed preview', () => {
    const plan = planOf(
      [
        accountPlan(A, [
          change('replace', `${stack(A)}/Queue`, 'AWS::SQS::Queue', {
            properties: [prop('FifoQueue', false, true, true)],
          }),
        ]),
        accountPlan(B, [change('create', `${stack(B)}/Bucket`, 'AWS::S3::Bucket')]),
      ],
      { totalTargets: 3 },
    )
    const merged = mergeCloudPreview(plan, {
      previews: new Map([
        [
          A,
          [
            {
              address: stack(A),
              outcome: 'previewed',
              changes: [
                {
                  address: `${stack(A)}/Queue`,
                  type: 'AWS::SQS::Queue',
                  action: 'Modify',
                  replacement: 'False',
                },
                { address: `${stack(A)}/Alarm`, type: 'AWS::CloudWatch::Alarm', action: 'Remove' },
              ],
            },
          ],
        ],
        [
          B,
          [
            {
              address: stack(B),
              outcome: 'refused',
              reason: "Parameter 'Env' must be one of AllowedValues",
              changes: [],
            },
          ],
        ],
      ]),
      failures: [
        {
          address: `${A}/eu-central-1/other`,
          message: `cannot create a change set for ${A}/eu-central-1/other: AccessDenied`,
        },
      ],
      skipped: [],
    })
    const summary = merged.findings.map((f) => [f.effect, f.addresses, f.message.slice(0, 60)])
    expect(summary).toEqual([
      ['warn', [`${stack(A)}/Queue`], 'CloudFormation would update in place AWS::SQS::Queue Queue o'],
      ['deny', [`${stack(A)}/Alarm`], 'CloudFormation would delete AWS::CloudWatch::Alarm Alarm of '],
      ['deny', [stack(B)], 'CloudFormation refused the change set of stack app: Paramete'],
      ['deny', [`${A}/eu-central-1/other`], 'the cloud could not preview stack other: cannot create a cha'],
    ])
    expect(merged.findings[3]!.message).toContain('cannot create a change set for stack other: AccessDenied')
    // The bucket of the refused stack has no cloud view: the cloud never said what it would do.
    expect(merged.targets[1]!.changes[0]!.cloud).toBeUndefined()
    expect(merged.cloudPreview).toMatchObject({ stacks: 2, agreed: 0, disagreements: 4 })
    expect(merged.verdict).toBe('denied')
  })
})
