import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  accountPlan,
  change,
  hostedZoneRenamePlan,
  planOf,
  prop,
} from '../../../test/support/plan-fixtures.ts'
import { schemaFileText } from '../model/json-schema.ts'
import { PLAN_SCHEMA_ID, planJsonSchema, planSchema } from './plan-schema.ts'

describe('plan JSON schema', () => {
  test('schema/plan.schema.json is up to date (run "npm run schema" if not)', () => {
    const onDisk = readFileSync(new URL('../../../schema/plan.schema.json', import.meta.url), 'utf8')
    expect(onDisk).toBe(schemaFileText(planJsonSchema()))
  })

  test('has its $id, a title and every top-level field of the plan document as required', () => {
    const schema = planJsonSchema() as { $id: string; title: string; required: string[] }
    expect(schema.$id).toBe(PLAN_SCHEMA_ID)
    expect(schema.title).toMatch(/plan/)
    expect(schema.required.sort()).toEqual(
      ['approvalsRequired', 'base', 'findings', 'head', 'summary', 'targets', 'verdict', 'version'].sort(),
    )
  })

  test('accepts a plan as the renderers and `--format json` see it (after a JSON round trip)', () => {
    const plan = planOf(
      [
        accountPlan('111111111111', [
          change('move', '111111111111/eu-central-1/dns-zones', 'AWS::CloudFormation::Stack', {
            movedFrom: '111111111111/eu-central-1/route53-hostedzones',
          }),
          change('update', '111111111111/eu-central-1/dns-zones/Zone', 'AWS::Route53::HostedZone', {
            protected: true,
            mayReplace: true,
            properties: [prop('HostedZoneConfig', { Comment: 'a' }, { Comment: 'b' }, 'conditional')],
          }),
        ]),
      ],
      {
        base: { kind: 'observed' },
        head: { kind: 'directory', path: '.' },
        findings: [
          {
            rule: 'delete-budget',
            effect: 'require-approval',
            message: 'too many deletions',
            addresses: [],
            pattern: { glob: '*/eu-central-1/**', expectedCount: 12 },
          },
        ],
      },
    )
    const document = JSON.parse(JSON.stringify(plan))
    expect(planSchema.parse(document)).toEqual(plan)
    expect(planSchema.safeParse(JSON.parse(JSON.stringify(hostedZoneRenamePlan(5)))).success).toBe(true)
  })

  test('rejects what the model does not allow', () => {
    const plan = JSON.parse(JSON.stringify(hostedZoneRenamePlan(2)))
    expect(planSchema.safeParse({ ...plan, verdict: 'invalid' }).success).toBe(false)
    expect(planSchema.safeParse({ ...plan, extra: 1 }).success).toBe(false)
    expect(planSchema.safeParse({ ...plan, base: { kind: 'revision', ref: 'HEAD' } }).success).toBe(false)
    const change = plan.targets[0].changes[0]
    change.properties[0].forcesReplacement = 'maybe'
    expect(planSchema.safeParse(plan).success).toBe(false)
    change.properties[0] = { path: 'Name', after: null, forcesReplacement: false }
    expect(planSchema.safeParse(plan).error?.issues[0]?.path).toEqual([
      'targets',
      0,
      'changes',
      0,
      'properties',
      0,
      'before',
    ])
  })
})
