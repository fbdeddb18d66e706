/**
 * XML in and out of the simulated AWS endpoints, through fast-xml-parser: responses are plain
 * objects rendered as AWS writes them (lists as repeated elements, times in ISO 8601), request
 * bodies (Route 53's) parsed into plain objects.
 */
import { randomUUID } from 'node:crypto'
import { XMLBuilder, XMLParser } from 'fast-xml-parser'
import type { AwsError } from './aws-errors.ts'

/** A value of an XML response: text, a nested element, or a list of repeated elements. */
export type XmlValue = string | number | boolean | Date | undefined | XmlObject | readonly XmlValue[]
/** An element's children by name. */
export interface XmlObject {
  readonly [name: string]: XmlValue
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
})
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true })

/** Renders `<root xmlns="namespace">…</root>` with an XML declaration. */
export function renderXml(root: string, namespace: string, body: XmlObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({
    [root]: { '@_xmlns': namespace, ...(plain(body) as Record<string, unknown>) },
  })}`
}

/** Parses an XML request body into plain objects (text values stay strings). */
export function parseXml(text: string): Record<string, unknown> {
  return parser.parse(text) as Record<string, unknown>
}

/** A request id for `RequestId` (and `x-amzn-RequestId`). */
export function newRequestId(): string {
  return randomUUID()
}

/** The response of a query API (CloudFormation, STS): `<ActionResponse><ActionResult>…</ActionResult>`. */
export function queryResponse(
  action: string,
  namespace: string,
  result: XmlObject | undefined,
  requestId: string,
): string {
  return renderXml(`${action}Response`, namespace, {
    ...(result ? { [`${action}Result`]: result } : {}),
    ResponseMetadata: { RequestId: requestId },
  })
}

/** A query API's error (`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`). */
export function queryError(error: AwsError, namespace: string, requestId: string): string {
  return renderXml('ErrorResponse', namespace, {
    Error: { Type: error.faultType, Code: error.code, Message: error.message },
    RequestId: requestId,
  })
}

/** A list of `<member>` elements, as the query APIs write lists. */
export function members(items: readonly XmlValue[]): XmlObject {
  return { member: items }
}

function plain(value: XmlValue): unknown {
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value as XmlObject)) {
      if (child === undefined) continue
      out[key] = plain(child)
    }
    return out
  }
  return value
}
