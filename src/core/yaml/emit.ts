import { Document, isNode, type Node } from 'yaml'
import { CfnTag } from './cfn-tags.ts'

/**
 * Prints data as YAML, with CloudFormation short tags written back as tags (`!Ref X`). Output
 * follows YAML 1.1 quoting, so strings such as `yes`, `on` or `012` are quoted and mean the same
 * to every reader, kubectl's YAML 1.1 parser included. Key order is kept as given: output is
 * deterministic because the input order is.
 */
export function toYaml(value: unknown): string {
  const doc = new Document(undefined, { version: '1.1' })
  doc.contents = doc.createNode(withTagNodes(doc, value)) as Node
  return doc.toString({ lineWidth: 0, indentSeq: true })
}

function withTagNodes(doc: Document, value: unknown): unknown {
  if (value instanceof CfnTag) {
    const node = doc.createNode(withTagNodes(doc, value.value)) as Node
    node.tag = value.tag
    return node
  }
  if (Array.isArray(value)) return value.map((item) => withTagNodes(doc, item))
  if (value !== null && typeof value === 'object' && !isNode(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = withTagNodes(doc, v)
    return out
  }
  return value
}
