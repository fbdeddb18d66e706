import { z } from 'zod'

/** Deployment environments, most critical first. */
export const ENVIRONMENTS = ['production', 'staging', 'test'] as const
export type Environment = (typeof ENVIRONMENTS)[number]

/** Criticality tiers: `tier-1` is the most critical. */
export const CRITICALITIES = ['tier-1', 'tier-2', 'tier-3'] as const
export type Criticality = (typeof CRITICALITIES)[number]

/** Release channels, in the order changes travel through them. */
export const CHANNELS = ['dev', 'alpha', 'beta', 'stable'] as const
export type Channel = (typeof CHANNELS)[number]

/** A lowercase slug: team ids, account names, group names, stage and gate names. */
export const slug = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
  message: 'use lowercase letters, digits and dashes (at most 63, not starting or ending with a dash)',
})

/** A cloud region such as `eu-central-1`. */
export const region = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'expected a region such as eu-central-1' })

/** Config items: name → string, number or boolean. Templates read them as `config.<name>`. */
export const configItems = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      message:
        'config item names are identifiers (letters, digits, _) so that CEL can read them as config.<name>',
    }),
    z.union([z.string(), z.number(), z.boolean()]),
  )
  .describe('Config items: name → string, number or boolean; read in templates as config.<name>.')

/** Tags: key → string value. */
export const tags = z.record(z.string().min(1), z.string()).describe('Tags: key → value (strings).')

/** A CEL expression (syntax and types are checked when the repository is validated). */
export const celExpression = z.string().min(1).describe('A CEL expression.')

/** A duration such as `90s`, `5m`, `1h30m` or `0s`. */
export const duration = z
  .string()
  .regex(/^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/, { message: 'expected a duration such as 30s, 5m or 1h30m' })

/** Parses a {@link duration} string into milliseconds. */
export function durationMs(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text)
  if (!m) throw new Error(`not a duration: ${text}`)
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000
}
