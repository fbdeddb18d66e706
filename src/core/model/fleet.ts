import { z } from 'zod'
import { slug } from './common.ts'
import { nodeRotationSchema } from './node-rotation.ts'

/** Providers that can manage accounts. */
export const ACCOUNT_PROVIDERS = ['sim', 'aws'] as const
/** Providers that can manage clusters. */
export const CLUSTER_PROVIDERS = ['sim', 'kubernetes'] as const

/** How validation treats a gap in stage coverage (`coverage.stages` in fleet.yaml). */
export const STAGE_COVERAGE_LEVELS = ['warn', 'error', 'off'] as const
/** One of {@link STAGE_COVERAGE_LEVELS}. */
export type StageCoverageLevel = (typeof STAGE_COVERAGE_LEVELS)[number]

/** `fleet.yaml`: fleet-wide settings. */
export const fleetSettingsSchema = z
  .strictObject({
    apiVersion: z.literal('flotilla/v1').describe('Always flotilla/v1.'),
    name: slug.describe('The fleet name.'),
    description: z.string().optional(),
    provider: z.enum(ACCOUNT_PROVIDERS).default('sim').describe('Default provider for targets: sim or aws.'),
    requiredTags: z
      .array(z.string().min(1))
      .default([])
      .describe('Tag keys every account should carry; tag compliance is the share present.'),
    protect: z
      .array(
        z.string().regex(/^([A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+|[A-Z][A-Za-z0-9]*)$/, {
          message: 'expected a CloudFormation resource type (AWS::Service::Resource) or a Kubernetes kind',
        }),
      )
      .default([])
      .describe('Extra protected resource types, added to the built-in list.'),
    limits: z
      .strictObject({
        maxDeletes: z
          .int()
          .min(0)
          .default(10)
          .describe(
            'More deletions than this in one plan need an approval; a replacement counts as a deletion.',
          ),
        maxShrinkPercent: z
          .number()
          .min(0)
          .max(100)
          .default(10)
          .describe('A selection may shrink by at most this share of its targets at once.'),
      })
      .prefault({})
      .describe('Safety limits.'),
    nodeRotation: nodeRotationSchema,
    coverage: z
      .strictObject({
        stages: z
          .enum(STAGE_COVERAGE_LEVELS)
          .default('warn')
          .describe(
            'What validation does when a stack, a component, a resource type or published DNS reaches production before any target of an earlier, non-production stage receives it: warn, error (the repository is invalid) or off.',
          ),
      })
      .prefault({})
      .describe('Checks that rollout stages test what they roll out before production does.'),
    trust: z
      .strictObject({
        branch: z
          .string()
          .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, { message: 'expected a branch name such as main' })
          .default('main')
          .describe(
            'The trusted branch: the rules (policies, rollout.yaml, protect, limits) of its tip judge every change, with those of the change itself, strictest wins.',
          ),
        owners: z
          .array(slug)
          .default([])
          .describe(
            'Teams whose members may approve a governance change (policies/, rollout.yaml, the protective settings of fleet.yaml), besides admins.',
          ),
      })
      .prefault({})
      .describe('Which revision is trusted to judge changes, and who owns the rules.'),
  })
  .describe('fleet.yaml: fleet-wide settings.')

export type FleetSettings = z.output<typeof fleetSettingsSchema>
