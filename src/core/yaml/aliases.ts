import { type Alias, type Document, isAlias, isCollection, isPair, isScalar, type Node } from 'yaml'
import { MAX_NESTING } from './nesting.ts'

/**
 * How often aliases may be expanded in one document, counting the aliases inside aliased values
 * (an alias of a list of ten aliases is eleven). A "billion laughs" file needs only a few lines
 * to reach 10⁹; real files reuse a few blocks a few times.
 */
export const MAX_ALIAS_EXPANSIONS = 10_000

/** How many values (scalars, lists and mappings) aliases may add to one document when expanded. */
export const MAX_ALIASED_VALUES = 100_000

/** A problem with the anchors and aliases of a document, at a character offset of the file. */
export interface AliasProblem {
  readonly offset: number
  readonly rule: 'undefined-alias' | 'recursive-alias' | 'alias-expansion'
  readonly message: string
}

/** The anchors of a document resolved once: what each alias stands for, and what is wrong. */
export interface ResolvedAliases {
  /** The node each alias refers to (the last node anchored with its name before it). */
  readonly targets: ReadonlyMap<Alias, Node>
  readonly problems: readonly AliasProblem[]
}

interface Expansion {
  readonly values: number
  readonly aliases: number
  readonly depth: number
}

/**
 * Resolves every alias of a document in one pass, and measures what expanding them would cost
 * before anything expands them. The `yaml` package's own `Alias.resolve` walks the whole document
 * for each alias (quadratic in a large file) and leaves undefined aliases, cycles and expansion
 * limits to `toJS`, which Flotilla does not use. Here:
 * - an alias with no anchor before it is an error, not a silent null;
 * - an alias inside the value it refers to (`&a [*a]`) is an error, not endless recursion;
 * - the document expanded may not use more than {@link MAX_ALIAS_EXPANSIONS} aliases, gain more
 *   than {@link MAX_ALIASED_VALUES} values, or nest deeper than {@link MAX_NESTING} levels; the
 *   error is at the alias that goes over.
 *
 * The tree is at most {@link MAX_NESTING} deep (checked on the parser's output before composing),
 * so the recursion here is bounded.
 */
export function resolveAliases(doc: Document.Parsed): ResolvedAliases {
  const targets = new Map<Alias, Node>()
  const problems: AliasProblem[] = []
  const anchors = new Map<string, Node>()

  // First pass, in document order: an anchor is visible from its own node on (YAML's rule, which
  // is what makes `&a [*a]` refer to itself), and a later anchor of the same name takes over.
  const link = (node: unknown): void => {
    if (isAlias(node)) {
      const target = anchors.get(node.source)
      if (target) targets.set(node, target)
      else
        problems.push({
          offset: node.range?.[0] ?? 0,
          rule: 'undefined-alias',
          message: `alias *${node.source} refers to no anchor: no "&${node.source}" comes before it in this document; put the anchor on an earlier value, or write the value out`,
        })
      return
    }
    if (isScalar(node) || isCollection(node)) {
      if (node.anchor) anchors.set(node.anchor, node)
    }
    if (isCollection(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          link(item.key)
          link(item.value)
        } else link(item)
      }
    }
  }
  link(doc.contents)
  // Most documents have no aliases: nothing can expand, and the second pass is not needed.
  if (targets.size === 0) return { targets, problems }

  // Second pass: the size of every node expanded, memoised (so it is linear in the text however
  // much the aliases multiply), with running totals over the aliases as written.
  const measured = new Map<Node, Expansion>()
  const inProgress = new Set<Node>()
  let expansions = 0
  let values = 0
  let overLimit = false
  const over = (alias: Alias, message: string): void => {
    if (overLimit) return
    overLimit = true
    problems.push({ offset: alias.range?.[0] ?? 0, rule: 'alias-expansion', message })
  }
  const NOTHING: Expansion = { values: 0, aliases: 0, depth: 0 }

  const measure = (node: unknown, depth: number): Expansion => {
    if (node === null || node === undefined) return NOTHING
    if (isAlias(node)) {
      const target = targets.get(node)
      if (!target) return NOTHING
      if (inProgress.has(target)) {
        problems.push({
          offset: node.range?.[0] ?? 0,
          rule: 'recursive-alias',
          message: `alias *${node.source} is inside the value anchored as &${node.source}, so expanding it would never end; write the inner value out instead`,
        })
        return NOTHING
      }
      const inner = measured.get(target) ?? measure(target, depth)
      expansions += 1 + inner.aliases
      values += inner.values
      if (expansions > MAX_ALIAS_EXPANSIONS)
        over(
          node,
          `aliases are expanded more than ${MAX_ALIAS_EXPANSIONS.toLocaleString('en')} times in this document (counting the aliases inside aliased values), as in a "billion laughs" file that takes all memory; write the values out, or nest fewer aliases`,
        )
      else if (values > MAX_ALIASED_VALUES)
        over(
          node,
          `aliases add more than ${MAX_ALIASED_VALUES.toLocaleString('en')} values to this document when expanded, as in a "billion laughs" file that takes all memory; write the values out, or alias smaller values`,
        )
      else if (depth + inner.depth > MAX_NESTING)
        over(
          node,
          `this alias nests its value more than ${MAX_NESTING} levels of lists and mappings deep; alias a value that is less deep, or write the structure flatter`,
        )
      return { values: inner.values, aliases: inner.aliases + 1, depth: inner.depth }
    }
    const known = measured.get(node as Node)
    if (known) return known
    let result: Expansion = { values: 1, aliases: 0, depth: 0 }
    if (isCollection(node)) {
      inProgress.add(node)
      let total = 1
      let aliases = 0
      let deepest = 0
      const add = (child: unknown): void => {
        const m = measure(child, depth + 1)
        total += m.values
        aliases += m.aliases
        deepest = Math.max(deepest, m.depth)
      }
      for (const item of node.items) {
        if (isPair(item)) {
          add(item.key)
          add(item.value)
        } else add(item)
      }
      inProgress.delete(node)
      result = { values: total, aliases, depth: deepest + 1 }
    }
    measured.set(node as Node, result)
    return result
  }
  measure(doc.contents, 0)
  return { targets, problems }
}
