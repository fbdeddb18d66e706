import { z } from 'zod'
import { CHANNELS, CRITICALITIES, configItems, ENVIRONMENTS, region, slug, tags } from './common.ts'
import { ACCOUNT_PROVIDERS, CLUSTER_PROVIDERS } from './fleet.ts'

/** A team in `inventory/teams.yaml`. */
export const teamSchema = z.strictObject({
  id: slug.describe('Team id, referenced by accounts and clusters.'),
  name: z.string().min(1).describe('Display name.'),
  description: z.string().optional(),
  costCenter: z.string().min(1).optional().describe('Default cost center of the team’s accounts.'),
  members: z.array(z.string().min(1)).default([]).describe('User names, used by access control.'),
})
export type Team = z.output<typeof teamSchema>

/** Account lifecycle states. `decommission-requested` is how an account is removed. */
export const ACCOUNT_LIFECYCLES = ['requested', 'active', 'decommission-requested', 'decommissioned'] as const

/** An account in `inventory/accounts.yaml` (or `inventory/accounts/*.yaml`). */
export const accountSchema = z.strictObject({
  id: z
    .string()
    .regex(/^\d{12}$/, { message: 'an account id is 12 digits, quoted as a string ("012345678901")' })
    .describe('Cloud account id (12 digits, as a string).'),
  name: slug.describe('Account name, unique in the fleet.'),
  description: z.string().optional(),
  team: slug.describe('Owning team id.'),
  environment: z.enum(ENVIRONMENTS),
  criticality: z.enum(CRITICALITIES),
  costCenter: z.string().min(1).optional().describe('Defaults to the team’s cost center.'),
  group: slug
    .optional()
    .describe('Account group; defaults to the team id. Group `ops` is monitoring & ops tooling.'),
  channel: z.enum(CHANNELS),
  regions: z.array(region).min(1).describe('Regions the account uses; the first is its home region.'),
  lifecycle: z.enum(ACCOUNT_LIFECYCLES).default('active'),
  provider: z.enum(ACCOUNT_PROVIDERS).optional().describe('Overrides fleet.yaml `provider`.'),
  tags: tags.default({}),
  config: configItems.default({}),
})
export type Account = z.output<typeof accountSchema>

/** Cluster lifecycle states. */
export const CLUSTER_LIFECYCLES = [
  'requested',
  'creating',
  'ready',
  'decommission-requested',
  'decommissioned',
] as const

/** A node pool of a cluster. */
export const nodePoolSchema = z
  .strictObject({
    name: slug,
    profile: slug.describe('Node profile, e.g. worker, worker-stateful, system.'),
    instanceTypes: z
      .array(
        z
          .string()
          .regex(/^[a-z0-9-]+\.[a-z0-9]+$/, { message: 'expected an instance type such as m5.xlarge' }),
      )
      .min(1),
    min: z.int().min(0),
    max: z.int().min(0),
  })
  .refine((pool) => pool.max >= pool.min, { message: 'max must be at least min', path: ['max'] })
export type NodePool = z.output<typeof nodePoolSchema>

/** A cluster in `inventory/clusters.yaml` (or `inventory/clusters/*.yaml`). */
export const clusterSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:._-]*$/, {
    message: 'a cluster id uses letters, digits and : . _ - (e.g. aws:263820974194:eu-central-1:kube-1)',
  }),
  alias: slug.describe('Short name, unique in the fleet.'),
  description: z.string().optional(),
  account: z.string().min(1).describe('Id of the account the cluster runs in.'),
  region,
  environment: z.enum(ENVIRONMENTS),
  channel: z.enum(CHANNELS),
  criticality: z.enum(CRITICALITIES),
  kubernetesVersion: z
    .string()
    .regex(/^1\.\d+$/, { message: 'expected a minor version such as "1.31" (quoted)' }),
  lifecycle: z.enum(CLUSTER_LIFECYCLES).default('ready'),
  provider: z
    .enum(CLUSTER_PROVIDERS)
    .optional()
    .describe('Defaults to sim when the fleet uses sim, else kubernetes.'),
  apiServer: z.url().optional().describe('API server URL for the kubernetes provider.'),
  team: slug.optional().describe('Defaults to the account’s team.'),
  group: slug.optional().describe('Defaults to the account’s group.'),
  tags: tags.optional().describe('Defaults to the account’s tags.'),
  nodePools: z.array(nodePoolSchema).default([]),
  config: configItems.default({}),
})
export type Cluster = z.output<typeof clusterSchema>

export const teamsFileSchema = z.array(teamSchema).describe('inventory/teams.yaml: the teams.')
export const accountsFileSchema = z.array(accountSchema).describe('inventory/accounts.yaml: the accounts.')
export const clustersFileSchema = z.array(clusterSchema).describe('inventory/clusters.yaml: the clusters.')
