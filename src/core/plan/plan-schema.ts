import { z } from 'zod'
import { CHANGE_ACTIONS, type Plan, POLICY_TIME_SOURCES } from '../model/plan.ts'

// The zod schema of the JSON plan document (`flotilla plan --format json`). It mirrors
// model/plan.ts field by field; the type assertions at the end of the file fail to compile when
// the two drift apart, and schema/plan.schema.json is generated from it.

const count = z.int().min(0)

/** Any JSON value: the property values of resources are whatever their templates produce. */
const jsonValue = (description: string) =>
  z
    .unknown()
    // `undefined` would vanish from the JSON document; the planner writes `null` for "absent".
    .refine((value) => value !== undefined, { message: 'expected a JSON value (null when absent)' })
    .describe(description)

const planSideSchema = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z.literal('revision'),
        ref: z.string().describe('The revision as given, e.g. HEAD~1 or a branch name.'),
        commit: z.string().describe('The commit id the revision resolved to.'),
      })
      .describe('A git revision of the fleet repository.'),
    z
      .strictObject({
        kind: z.literal('directory'),
        path: z.string().describe('The directory read (the working tree).'),
      })
      .describe('A directory: the working tree, including uncommitted changes.'),
    z
      .strictObject({ kind: z.literal('observed') })
      .describe('The fleet as observed through the providers (a plan without --base).'),
  ])
  .describe('One side of a plan.')

const propertyChangeSchema = z
  .strictObject({
    path: z.string().describe('Dotted path of the property inside the resource or object.'),
    before: jsonValue('The value before; null when the property did not exist.'),
    after: jsonValue('The value after; null when the property no longer exists.'),
    forcesReplacement: z
      .union([z.boolean(), z.enum(['conditional', 'unknown'])])
      .describe(
        'Whether changing the property replaces the resource: true/false from the type schema, ' +
          '"conditional" where the schema says it may, "unknown" for types without a schema.',
      ),
    unknown: z
      .boolean()
      .exactOptional()
      .describe(
        'The value is known only when CloudFormation applies the stack (Fn::GetAtt, a Ref to a resource, ' +
          'Fn::ImportValue, a dynamic reference); where the property can force replacement, the resource may be replaced.',
      ),
    dependsOn: z
      .array(z.string())
      .exactOptional()
      .describe(
        'For a change caused by replaced resources that the value reads (Ref, Fn::GetAtt): their logical ids.',
      ),
  })
  .describe('One changed property.')

const cloudViewSchema = z
  .union([
    z.strictObject({
      action: z.enum(['Add', 'Modify', 'Remove', 'Import', 'Dynamic']).describe("CloudFormation's Action."),
      replacement: z
        .enum(['True', 'False', 'Conditional'])
        .exactOptional()
        .describe('For Modify: whether CloudFormation replaces the resource.'),
      policyAction: z
        .string()
        .exactOptional()
        .describe('What becomes of the physical resource: Delete, Retain, ReplaceAndDelete, …'),
    }),
    z.strictObject({ action: z.literal('None') }).describe('The change set does not touch the resource.'),
  ])
  .describe('What the cloud preview (a CloudFormation change set) says of the change (--cloud-preview).')

const rotationSchema = z
  .strictObject({
    count: count.describe('How many nodes are replaced (the pool min when the nodes are not known).'),
    nodes: z
      .array(z.string())
      .exactOptional()
      .describe('The nodes replaced, by name, when the plan compares with the observed cluster.'),
    estimated: z
      .boolean()
      .exactOptional()
      .describe('Whether count is the pool min rather than observed nodes.'),
    stateful: z
      .boolean()
      .exactOptional()
      .describe('StatefulSet pods run on the pool: its rotations count against nodeRotation.statefulPools.'),
    overBudget: z
      .boolean()
      .exactOptional()
      .describe('The pool used its monthly rotation budget: the rollout skips it and reports it.'),
  })
  .describe('For a node pool rotate (or delete): the nodes it replaces.')

const cloudPreviewSchema = z
  .strictObject({
    stacks: count.describe('Stacks previewed with a change set (each deleted afterwards).'),
    accounts: count.describe('Accounts of those stacks.'),
    agreed: count.describe('Resource changes where the cloud and the plan agree.'),
    disagreements: count.describe('Resource changes or stacks where they disagree (cloud-preview findings).'),
    skipped: z
      .array(z.strictObject({ reason: z.string(), count }))
      .describe('What was not previewed, and why.'),
  })
  .describe('What the cloud preview found (flotilla plan --cloud-preview).')

const changeSchema = z
  .strictObject({
    address: z
      .string()
      .describe(
        '<account>/<region>/<StackName>[/<LogicalId>] or <cluster>/<namespace|_>/<Kind>/<name>; ' +
          'starts with the target id.',
      ),
    action: z.enum(CHANGE_ACTIONS).describe('What the plan does to it.'),
    type: z
      .string()
      .describe(
        'AWS::S3::Bucket, AWS::CloudFormation::Stack for the stack itself, or <apiVersion>/<Kind> for Kubernetes.',
      ),
    protected: z.boolean().describe('Whether the type is protected (built-in list plus fleet.yaml protect).'),
    movedFrom: z.string().exactOptional().describe('For a move: the address before.'),
    mayReplace: z
      .boolean()
      .exactOptional()
      .describe('An update that may replace the resource (a conditional or unknown property changed).'),
    condition: z
      .strictObject({ name: z.string(), value: z.boolean() })
      .exactOptional()
      .describe(
        'For a resource created or deleted because its CloudFormation Condition changed value: the condition ' +
          'and its value in the head (false: the resource is deleted).',
      ),
    properties: z.array(propertyChangeSchema).describe('The changed properties.'),
    cloud: cloudViewSchema.exactOptional(),
    rotation: rotationSchema.exactOptional(),
  })
  .describe('A change to one addressable thing of a target.')

const targetPlanSchema = z
  .strictObject({
    id: z.string().describe('The account id or cluster id.'),
    kind: z.enum(['account', 'cluster']),
    name: z.string(),
    team: z.string(),
    environment: z.string(),
    criticality: z.string(),
    group: z.string(),
    stage: z
      .string()
      .nullable()
      .describe(
        'The rollout stage the target will be rolled out in: its stage in head (or base, for a removed target); null when none.',
      ),
    stageMove: z
      .strictObject({
        from: z.string().describe('The stage in the base.'),
        to: z.string().describe('The stage in the head.'),
      })
      .exactOptional()
      .describe(
        'Present when the target moves to another rollout stage (its channel, environment or group, or rollout.yaml, changed); the target is planned for it even without changes.',
      ),
    changes: z
      .array(changeSchema)
      .describe('The changes; empty for a target that only moves to another stage.'),
  })
  .describe('The changes of one target.')

const findingSchema = z
  .strictObject({
    rule: z.string().describe('The rule that fired: a built-in safety rule or a policy name.'),
    effect: z.enum(['deny', 'require-approval', 'warn']).describe('How the finding affects the verdict.'),
    message: z.string().describe('What was found, where, and what to do instead.'),
    addresses: z
      .array(z.string())
      .describe('The addresses concerned; for require-approval, each must be approved (or the pattern).'),
    pattern: z
      .strictObject({
        glob: z.string(),
        expectedCount: count.describe('The exact number of addresses the glob must match.'),
      })
      .exactOptional()
      .describe('For an approval by pattern.'),
  })
  .describe('Something a rule found in the plan.')

const byCount = (what: string) => z.record(z.string(), count).describe(`Changed targets by ${what}.`)

const planSummarySchema = z
  .strictObject({
    targets: count.describe('Targets in base or head.'),
    targetsChanged: count.describe('Targets with at least one change or a stage move.'),
    actions: z
      .strictObject({
        create: count,
        update: count,
        replace: count,
        delete: count,
        move: count,
        rotate: count,
      })
      .describe('Changes by action.'),
    protectedDestroyed: count.describe('Protected resources deleted or replaced (or that may be replaced).'),
    byEnvironment: byCount('environment'),
    byCriticality: byCount('criticality'),
    byTeam: byCount('team'),
    opsTargetsChanged: count.describe('Changed targets of the ops group.'),
    byStage: byCount('the rollout stage they will be rolled out in'),
    stageMoves: count.describe('Targets that move to another rollout stage.'),
  })
  .describe('The blast radius of the plan.')

/**
 * The plan JSON document (`flotilla plan --format json`), exactly the {@link Plan} model.
 * Property values (`before`, `after`) may be any JSON value.
 */
export const planSchema = z
  .strictObject({
    version: z.literal(1).describe('The plan document version.'),
    base: planSideSchema.describe('What the plan compares against.'),
    head: planSideSchema.describe('The desired state.'),
    verdict: z.enum(['no-changes', 'allowed', 'requires-approval', 'denied']),
    summary: planSummarySchema,
    findings: z.array(findingSchema),
    approvalsRequired: z
      .array(z.string())
      .describe('Every approval needed: exact addresses, or "glob (expected N)" for patterns.'),
    approvals: z
      .strictObject({
        given: z.array(z.string()).describe('The approvals given with the plan.'),
        unmet: z.array(z.string()).describe('Required approvals still missing.'),
      })
      .exactOptional()
      .describe('Present when approvals were given.'),
    targets: z.array(targetPlanSchema).describe('Targets with at least one change, sorted by id.'),
    cloudPreview: cloudPreviewSchema.exactOptional(),
    judgedBy: z
      .array(z.string())
      .exactOptional()
      .describe(
        "Whose rules judged the plan, when the trusted revision is neither of its sides: its rules judge as well as the base's and the head's, strictest wins.",
      ),
    policyTime: z
      .strictObject({
        at: z.string().describe('The time, in ISO 8601.'),
        source: z
          .enum(POLICY_TIME_SOURCES)
          .describe(
            "clock: the clock of the machine that planned (the server's for the API); operator: fixed by the server's operator (flotilla serve --now); what-if: a read-only preview at a chosen time (plan --now), never started.",
          ),
      })
      .exactOptional()
      .describe('The time the policies saw as now, and who set it.'),
  })
  .describe('A Flotilla plan: what a change to the fleet repository does to the fleet.')

/** The public URL of the plan schema, also its `$id`. */
export const PLAN_SCHEMA_ID = 'https://flotilla.dev/schema/plan.schema.json'

/**
 * The JSON Schema (draft 2020-12) of the plan document, generated from {@link planSchema} and
 * checked in as `schema/plan.schema.json`.
 */
export function planJsonSchema(): Record<string, unknown> {
  const json = z.toJSONSchema(planSchema, { io: 'output' }) as Record<string, unknown>
  return {
    $schema: json.$schema,
    $id: PLAN_SCHEMA_ID,
    title: 'Flotilla plan (flotilla plan --format json)',
    ...Object.fromEntries(Object.entries(json).filter(([k]) => k !== '$schema')),
  }
}

// Compile-time proof that the schema and the model describe the same document. `readonly` is a
// TypeScript-only notion, so the model is compared without it.
type Writable<T> = T extends readonly (infer U)[]
  ? Writable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Writable<T[K]> }
    : T
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type PlanDocument = z.output<typeof planSchema>
const schemaMatchesModel: Equals<Writable<Plan>, Writable<PlanDocument>> = true
const documentIsPlan = (document: PlanDocument): Plan => document
const planIsDocument = (plan: Plan): Writable<PlanDocument> => plan as Writable<Plan>
void [schemaMatchesModel, documentIsPlan, planIsDocument]
