import { z } from 'zod'
import { DiagnosticSink } from '../diagnostics.ts'
import { InputError } from '../errors.ts'
import { checkSchema } from '../load/schema-check.ts'
import { parseYamlFile } from '../yaml/parse.ts'
import { type Approval, parseApproval } from './approvals.ts'

/**
 * An approvals file (`--approvals FILE`): a YAML list whose entries are written as in a plan's
 * `approvalsRequired` — an address, or `PATTERN (expected N)` — or as mappings.
 *
 * ```yaml
 * - 263820974194/global/route53-hostedzones/HostedZone
 * - "*\/global/route53-hostedzones/* (expected 466)"
 * - { pattern: "*\/global/route53-hostedzones/*", expectedCount: 466 }
 * ```
 */
export const approvalsFileSchema = z
  .array(
    z.union([
      z.string().min(1),
      z.strictObject({ address: z.string().min(1) }),
      z.strictObject({ pattern: z.string().min(1), expectedCount: z.int().min(0) }),
    ]),
  )
  .describe('An approvals file: addresses, or patterns with the exact number of addresses they match.')

/** Reads an approvals file; every problem is an {@link InputError} with its file:line:col. */
export function parseApprovalsFile(file: string, text: string): Approval[] {
  const sink = new DiagnosticSink()
  const parsed = parseYamlFile(file, text, sink)
  const doc = parsed?.documents[0]
  const entries = doc ? checkSchema(approvalsFileSchema, doc, sink) : undefined
  if (!entries || sink.hasErrors) {
    if (parsed && !doc) throw new InputError(`${file} is empty; list the approvals, one per line`)
    throw new InputError(`${file} is not a valid approvals file`, sink.sorted().errors)
  }
  return entries.map((entry, i) => {
    try {
      if (typeof entry === 'string') return parseApproval(entry)
      if ('address' in entry) return parseApproval(entry.address)
      return { kind: 'pattern', glob: entry.pattern, expectedCount: entry.expectedCount }
    } catch (error) {
      const at = doc!.locate([i])
      throw new InputError(`${file}:${at.line}:${at.col}: ${(error as Error).message}`)
    }
  })
}
