import { describe, expect, test } from 'vitest'
import { type Alias, isAlias, parseDocument, visit } from 'yaml'
import { MAX_ALIAS_EXPANSIONS, MAX_ALIASED_VALUES, resolveAliases } from './aliases.ts'
import { MAX_NESTING } from './nesting.ts'

const resolve = (text: string) => resolveAliases(parseDocument(text, { merge: true, uniqueKeys: false }))
const problems = (text: string) => resolve(text).problems.map((p) => [p.rule, p.offset])

describe('resolveAliases: what each alias refers to', () => {
  test('the last anchor of that name before the alias', () => {
    const doc = parseDocument('a: &x 1\nb: *x\nc: &x 2\nd: *x\n')
    const { targets, problems } = resolveAliases(doc)
    expect(problems).toEqual([])
    const aliases: Alias[] = []
    visit(doc, { Alias: (_k, node) => void aliases.push(node) })
    expect(aliases.map((a) => (targets.get(a) as { value: unknown }).value)).toEqual([1, 2])
  })

  test('an alias before its anchor, or with none, is undefined', () => {
    expect(problems('a: *x\nb: &x 1\n')).toEqual([['undefined-alias', 3]])
    expect(problems('a: [1, *nope]\n')).toEqual([['undefined-alias', 7]])
  })

  test('an alias inside the node it refers to is recursive, however deep inside', () => {
    expect(problems('a: &x [1, *x]\n')).toEqual([['recursive-alias', 10]])
    expect(problems('a: &x { b: [ { c: *x } ] }\n')).toEqual([['recursive-alias', 18]])
    // The same alias after the anchored node has closed is fine.
    expect(problems('a: &x [1]\nb: *x\n')).toEqual([])
  })

  test('every alias of a document resolves in one pass, however many there are', () => {
    const text = `x: &x 1\nl: [${Array(5000).fill('*x').join(', ')}]\n`
    const doc = parseDocument(text)
    const started = performance.now()
    const { targets, problems } = resolveAliases(doc)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(problems).toEqual([])
    expect(targets.size).toBe(5000)
    let found = 0
    visit(doc, { Alias: (_k, node) => void (isAlias(node) && targets.has(node) && found++) })
    expect(found).toBe(5000)
  })
})

describe('resolveAliases: limits on expansion, exactly at the limit', () => {
  test(`${MAX_ALIAS_EXPANSIONS} alias expansions are fine, one more is not`, () => {
    const list = (n: number) => `x: &x 1\nl: [${Array(n).fill('*x').join(', ')}]\n`
    expect(problems(list(MAX_ALIAS_EXPANSIONS))).toEqual([])
    expect(problems(list(MAX_ALIAS_EXPANSIONS + 1)).map(([rule]) => rule)).toEqual(['alias-expansion'])
  })

  test(`${MAX_ALIASED_VALUES} aliased values are fine, one more is not`, () => {
    // *big is 1 list + 999 scalars = 1,000 values; 100 of them are 100,000.
    const text = (extra: boolean) =>
      `big: &big [${Array(999).fill('x').join(', ')}]\none: &one 1\nl: [${Array(MAX_ALIASED_VALUES / 1000)
        .fill('*big')
        .join(', ')}${extra ? ', *one' : ''}]\n`
    expect(problems(text(false))).toEqual([])
    const over = resolve(text(true)).problems
    expect(over.map((p) => p.rule)).toEqual(['alias-expansion'])
    expect(over[0]!.message).toContain('more than 100,000 values')
  })

  test(`nesting through aliases is limited to ${MAX_NESTING} levels too`, () => {
    const nested = (levels: number) =>
      `a: &a ${'['.repeat(50)}${']'.repeat(50)}\nb: ${'['.repeat(levels - 51)}*a${']'.repeat(levels - 51)}\n`
    // The root mapping is one level, the brackets around *a and *a's own 50 the rest.
    expect(problems(nested(MAX_NESTING))).toEqual([])
    expect(resolve(nested(MAX_NESTING + 1)).problems.map((p) => p.message)).toEqual([
      expect.stringContaining(`more than ${MAX_NESTING} levels`),
    ])
  })

  test('the error is at the alias that goes over, and only once', () => {
    const text = `x: &x [${Array(100).fill('1').join(', ')}]\nl: [${Array(2000).fill('*x').join(', ')}]\n`
    const found = resolve(text).problems
    expect(found).toHaveLength(1)
    // 101 values per *x: the 991st goes over 100,000.
    expect(found[0]!.offset).toBe(text.indexOf('l: [') + 4 + 990 * 4)
  })
})
