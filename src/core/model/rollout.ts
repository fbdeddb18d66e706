import { z } from 'zod'
import { celExpression, duration, slug } from './common.ts'

const stageSettings = {
  maxParallel: z.int().min(1).describe('At most this many targets of a wave at once.'),
  failureTolerance: z.int().min(0).describe('Failed targets a stage tolerates before the rollout halts.'),
  bake: duration.describe('Time to wait after the last wave before the gates run again.'),
  onFailure: z.enum(['rollback', 'halt']).describe('What a halt does to the targets the stage changed.'),
}

/** A wave size: a count of targets (`1`) or a cumulative share of the stage (`"10%"`). */
export const waveSchema = z.union([
  z.int().min(1),
  z.string().regex(/^(100|[1-9]?\d)%$/, { message: 'expected a share such as 10% (1% to 100%)' }),
])

/** A rollout stage. A target belongs to the first stage that selects it. */
export const stageSchema = z.strictObject({
  name: slug,
  description: z.string().optional(),
  select: celExpression.describe('Which targets are in the stage (CEL over target).'),
  waves: z.array(waveSchema).min(1).optional().describe('Cumulative wave sizes; the last must be 100%.'),
  gates: z.array(slug).optional().describe('Names of gates (from `gates`) that must pass.'),
  approval: z
    .enum(['required', 'none'])
    .optional()
    .describe('required: a person approves before the stage starts.'),
  maxParallel: stageSettings.maxParallel.optional(),
  failureTolerance: stageSettings.failureTolerance.optional(),
  bake: stageSettings.bake.optional(),
  onFailure: stageSettings.onFailure.optional(),
})

const timeout = duration.optional().describe('How long the gate may take before it fails.')

/** Gate definitions, by type. A gate whose data source cannot be reached fails. */
export const gateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('health'), description: z.string().optional(), timeout }),
  z.strictObject({
    type: z.literal('dns'),
    description: z.string().optional(),
    names: z.array(z.string().min(1)).min(1).describe('Names that must resolve ({{ }} allowed).'),
    timeout,
  }),
  z.strictObject({
    type: z.literal('command'),
    description: z.string().optional(),
    run: z.string().min(1).describe('Command line; exit 0 passes ({{ }} allowed).'),
    timeout,
  }),
  z.strictObject({
    type: z.literal('http'),
    description: z.string().optional(),
    url: z.string().min(1).describe('URL to GET ({{ }} allowed).'),
    expectStatus: z.int().min(100).max(599).default(200),
    timeout,
  }),
  z.strictObject({
    type: z.literal('prometheus'),
    description: z.string().optional(),
    url: z.string().min(1).describe('Prometheus base URL.'),
    query: z.string().min(1).describe('Instant query ({{ }} allowed).'),
    condition: celExpression.describe('CEL over `result` (the query’s value); true passes.'),
    timeout,
  }),
])
export type Gate = z.output<typeof gateSchema>

/** `rollout.yaml`: stages and gates. */
export const rolloutSchema = z
  .strictObject({
    defaults: z
      .strictObject({
        maxParallel: stageSettings.maxParallel.default(1),
        failureTolerance: stageSettings.failureTolerance.default(0),
        bake: stageSettings.bake.default('0s'),
        onFailure: stageSettings.onFailure.default('rollback'),
      })
      .prefault({}),
    stages: z.array(stageSchema).min(1),
    gates: z.record(slug, gateSchema).default({}),
  })
  .describe('rollout.yaml: rollout stages and gates.')
export type RolloutSpec = z.output<typeof rolloutSchema>
export type Stage = z.output<typeof stageSchema>
