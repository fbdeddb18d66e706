import { z } from 'zod'
import { celExpression } from './common.ts'

/** Policy effects, weakest last. */
export const POLICY_EFFECTS = ['deny', 'require-approval', 'warn'] as const

/** A rule in `policies/*.yaml`. */
export const policyRuleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'use lowercase letters, digits and dashes' }),
  description: z.string().optional(),
  scope: z
    .enum(['change', 'plan'])
    .default('change')
    .describe(
      'change: evaluated per change (sees change, target, now); plan: once over the plan (sees plan, now).',
    ),
  when: celExpression
    .optional()
    .describe(
      'CEL condition; the rule fires when it is true. Required, except for a rule named after a built-in safety rule, which only makes that rule stricter.',
    ),
  effect: z.enum(POLICY_EFFECTS),
})
export type PolicyRule = z.output<typeof policyRuleSchema>

export const policyFileSchema = z
  .array(policyRuleSchema)
  .describe('policies/*.yaml: deployment policy rules.')
