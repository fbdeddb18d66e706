import { z } from 'zod'
import { CHANNELS, celExpression, configItems, ENVIRONMENTS } from './common.ts'

/**
 * `cluster/config-defaults.yaml`: default config items for clusters. Merged in this order, later
 * winning: `defaults`, `environments[env]`, `channels[channel]`, then the cluster's own `config`.
 */
export const configDefaultsSchema = z
  .strictObject({
    defaults: configItems.default({}),
    environments: z.partialRecord(z.enum(ENVIRONMENTS), configItems).default({}),
    channels: z.partialRecord(z.enum(CHANNELS), configItems).default({}),
  })
  .describe('cluster/config-defaults.yaml: default config items for clusters, by environment and channel.')
export type ConfigDefaults = z.output<typeof configDefaultsSchema>

/** `cluster/manifests/<component>/component.yaml`: optional settings of a cluster component. */
export const componentSettingsSchema = z
  .strictObject({
    description: z.string().optional(),
    select: celExpression
      .optional()
      .describe('Which clusters get the component (CEL); default: every ready cluster.'),
    interpolate: z
      .boolean()
      .default(true)
      .describe('Set to false for manifests that carry other templating ({{ }} left as written).'),
  })
  .describe('component.yaml: settings of a cluster component.')
export type ComponentSettings = z.output<typeof componentSettingsSchema>
