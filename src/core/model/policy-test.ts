import { z } from 'zod'
import { celExpression } from './common.ts'
import { POLICY_EFFECTS } from './policy.ts'

/** The actions a change of a policy test can have (a `no-op` is not a change a policy sees). */
export const POLICY_TEST_ACTIONS = ['create', 'update', 'replace', 'delete', 'move'] as const

/** The verdicts a policy test can expect (its plan always has changes; `invalid` needs real revisions). */
export const POLICY_TEST_VERDICTS = ['allowed', 'requires-approval', 'denied'] as const

/** One changed property of a change in a policy test, as a plan's `properties` lists it. */
export const policyTestPropertySchema = z.strictObject({
  path: z.string().min(1).describe('Dotted path inside the resource properties, e.g. "Name".'),
  before: z.unknown().optional().describe('The value before; absent or null when the property is new.'),
  after: z.unknown().optional().describe('The value after; absent or null when the property is removed.'),
  forcesReplacement: z
    .union([z.boolean(), z.enum(['conditional', 'unknown'])])
    .default(false)
    .describe('Whether changing the property replaces the resource: true, false, conditional or unknown.'),
})

/** One change of the plan a policy test builds. */
export const policyTestChangeSchema = z.strictObject({
  target: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The target the change is in: an account id or name, a cluster id or alias. Policies see the inventory's fields of it as `target`. Give target or select.",
    ),
  select: celExpression
    .optional()
    .describe(
      "CEL over `target` (as a rollout stage's select): the same change in every target it selects, e.g. \"target.environment == 'production'\". Give target or select.",
    ),
  address: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The change address, e.g. "263820974194/global/route53-hostedzones/HostedZone". Default: "<target id>/policy-test/<last part of type>". Only with target.',
    ),
  action: z.enum(POLICY_TEST_ACTIONS),
  type: z
    .string()
    .min(1)
    .describe(
      'AWS::Route53::HostedZone, AWS::CloudFormation::Stack for a stack, or <apiVersion>/<Kind> for Kubernetes.',
    ),
  protected: z
    .boolean()
    .optional()
    .describe(
      'Whether the type is protected. Default: as the fleet decides it (built-in list plus fleet.yaml protect); a stack (AWS::CloudFormation::Stack) is not, as in a plan: its resources are.',
    ),
  mayReplace: z
    .boolean()
    .default(false)
    .describe('An update that may replace the resource (a conditional or unknown property changed).'),
  properties: z
    .array(policyTestPropertySchema)
    .default([])
    .describe('Changed properties, as policies see them.'),
})

/** A finding a policy test expects. */
export const policyTestFindingSchema = z.strictObject({
  rule: z
    .string()
    .min(1)
    .describe(
      'The rule: a policy name, a built-in safety rule (protected-destroy, delete-budget, …), policy-error, stale-approval, approval-mismatch or approval-not-exact.',
    ),
  effect: z.enum(POLICY_EFFECTS),
  addresses: z
    .array(z.string().min(1))
    .optional()
    .describe('The exact addresses of the finding, in any order. Default: not compared.'),
  count: z.int().min(0).optional().describe('How many addresses the finding has. Default: not compared.'),
})

/** An approval given to the plan of a policy test: written as on the command line, or as a mapping. */
export const policyTestApprovalSchema = z.union([
  z.string().min(1),
  z.strictObject({ address: z.string().min(1) }),
  z.strictObject({ pattern: z.string().min(1), expectedCount: z.int().min(0) }),
])

/** One policy test: a plan built from a few changes, at a given time, and what the rules must find. */
export const policyTestSchema = z.strictObject({
  name: z.string().min(1).describe('What the test shows; unique within its file.'),
  now: z.iso
    .datetime({
      offset: true,
      message: 'write the time in ISO 8601 with seconds and a zone, e.g. 2026-11-25T10:00:00Z',
    })
    .describe(
      'The time policies see as now, e.g. 2026-11-25T10:00:00Z. Required: a test must not depend on the day it runs.',
    ),
  changes: z.array(policyTestChangeSchema).min(1).describe('The changes of the plan.'),
  approvals: z
    .array(policyTestApprovalSchema)
    .optional()
    .describe(
      'Approvals given with the plan: an address, or "PATTERN (expected N)", as for flotilla plan --approve.',
    ),
  expect: z
    .array(policyTestFindingSchema)
    .describe(
      'Every finding the rules must give, built-in rules and approvals included; [] for none. Compared as a set: nothing missing, nothing extra.',
    ),
  verdict: z
    .enum(POLICY_TEST_VERDICTS)
    .optional()
    .describe('The verdict the plan must have, after the approvals. Default: not compared.'),
})

export type PolicyTest = z.output<typeof policyTestSchema>
export type PolicyTestChange = z.output<typeof policyTestChangeSchema>
export type ExpectedFinding = z.output<typeof policyTestFindingSchema>

export const policyTestFileSchema = z
  .array(policyTestSchema)
  .min(1)
  .describe('policies/tests/*.yaml: policy tests, run by flotilla policy test.')
