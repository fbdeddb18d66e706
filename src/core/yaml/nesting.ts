import type { CST } from 'yaml'

/**
 * How many lists and mappings may be nested in one another. Real files stay far below it (the
 * deepest CloudFormation template and CustomResourceDefinition of the test corpus: 19 levels);
 * far above it, the recursive steps after parsing — the `yaml` package's own composer, then
 * validation, rendering and planning — could run out of stack: 10,000 `[` crash Node itself.
 */
export const MAX_NESTING = 100

/**
 * The offset of the first list or mapping nested deeper than `limit`, or undefined. Reads the
 * concrete syntax tree of the `yaml` package's parser, which is built without recursion, with an
 * explicit stack: so it is safe on any input, before anything recursive sees it.
 */
export function findTooDeep(tokens: readonly CST.Token[], limit = MAX_NESTING): number | undefined {
  // Depth first, in document order (children pushed last to first), so that the error is the earliest.
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 })).reverse()
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth })
      continue
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue
    if (depth + 1 > limit) return token.offset
    for (const item of [...token.items].reverse()) {
      if (item.value) stack.push({ token: item.value, depth: depth + 1 })
      if ('key' in item && item.key) stack.push({ token: item.key, depth: depth + 1 })
    }
  }
  return undefined
}
