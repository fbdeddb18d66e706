import { z } from 'zod'
import { celExpression } from './common.ts'

/** CloudFormation's template sections. */
export const TEMPLATE_SECTIONS = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
] as const

/** The attributes a resource may have besides `Type` and `Properties`. */
export const RESOURCE_ATTRIBUTES = [
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
  'Version',
] as const

/** Flotilla's own keys in a template's `Metadata`. Every other key passes through to CloudFormation. */
export const FLOTILLA_METADATA_KEYS = ['StackName', 'Scope', 'Select', 'MovedFrom', 'Parameters'] as const

const parameterValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string(), z.number()])),
])

/** Flotilla's keys in a stack template's `Metadata`. */
export const stackMetadataSchema = z.object({
  StackName: z
    .string()
    .regex(/^[A-Za-z][-A-Za-z0-9]{0,127}$/, {
      message: 'a stack name starts with a letter and has letters, digits and dashes (at most 128)',
    })
    .describe('Required: the stack’s identity in every account.'),
  Scope: z
    .strictObject({
      Type: z
        .enum(['region', 'global'])
        .describe('region: one stack per account region; global: one per account.'),
    })
    .optional(),
  Select: celExpression
    .optional()
    .describe('Which accounts get the stack (CEL); default: every active account.'),
  MovedFrom: z
    .string()
    .regex(/^[A-Za-z][-A-Za-z0-9]{0,127}$/, { message: 'MovedFrom names the stack’s previous StackName' })
    .optional()
    .describe('The stack’s previous StackName: a move, not a destroy and create.'),
  Parameters: z
    .record(z.string(), parameterValue)
    .optional()
    .describe('Values for the template’s Parameters ({{ }} allowed).'),
})

/** A stack file: a CloudFormation template plus Flotilla's keys in `Metadata` (other keys pass through). */
export const stackFileSchema = z
  .strictObject({
    AWSTemplateFormatVersion: z.union([z.string(), z.iso.date()]).optional(),
    Description: z.string().optional(),
    Metadata: stackMetadataSchema.loose(),
    Parameters: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    Rules: z.record(z.string(), z.unknown()).optional(),
    Mappings: z.record(z.string(), z.unknown()).optional(),
    Conditions: z.record(z.string(), z.unknown()).optional(),
    Transform: z.unknown().optional(),
    Resources: z.record(z.string(), z.unknown()),
    Outputs: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('stacks/*.yaml: a CloudFormation template with Flotilla’s keys in Metadata.')

/** A resource entry (checked per resource; `Fn::ForEach::*` entries are left to CloudFormation). */
export const resourceSchema = z.strictObject({
  Type: z.string().min(1),
  Properties: z.unknown().optional(),
  DependsOn: z.unknown().optional(),
  Condition: z.unknown().optional(),
  DeletionPolicy: z.unknown().optional(),
  UpdateReplacePolicy: z.unknown().optional(),
  Metadata: z.unknown().optional(),
  CreationPolicy: z.unknown().optional(),
  UpdatePolicy: z.unknown().optional(),
  Version: z.unknown().optional(),
})
export type StackMetadata = z.output<typeof stackMetadataSchema>
