import { describe, expect, test } from 'vitest'
import {
  type CompiledExpression,
  celTimestamp,
  compileExpression,
  ExpressionError,
  fromCel,
  toCel,
  variablesOf,
} from './cel.ts'

function compiled(source: string, place: Parameters<typeof compileExpression>[1]): CompiledExpression {
  const result = compileExpression(source, place)
  if (result instanceof ExpressionError) throw result
  return result
}

const target = toCel({
  id: '111111111111',
  kind: 'account',
  name: 'teapot-prod',
  team: 'teapot',
  environment: 'production',
  criticality: 'tier-1',
  channel: 'stable',
  group: 'teapot',
  lifecycle: 'active',
  provider: 'sim',
  account: '111111111111',
  regions: ['eu-central-1'],
  tags: { owner: 'teapot' },
  config: { replicas: 2, ratio: 0.5 },
})

describe('compileExpression', () => {
  test('type-checks and evaluates against a context', () => {
    const e = compiled("target.environment == 'production' && target.config.replicas > 1", 'stage-select')
    expect(e.type).toBe('bool')
    expect(e.evaluate({ target, fleet: toCel({ name: 'f', provider: 'sim', requiredTags: [] }) })).toBe(true)
  })

  test('a syntax error carries the offset inside the expression', () => {
    const e = compileExpression("target.id == 'x' &&", 'stage-select')
    expect(e).toBeInstanceOf(ExpressionError)
    expect((e as ExpressionError).message).toBe('CEL syntax error: Unexpected token: EOF')
    expect((e as ExpressionError).offset).toBe(19)
  })

  test('an unknown variable names the variables of the place, and the closest one', () => {
    const e = compileExpression('acount.id', 'stack-select') as ExpressionError
    expect(e.message).toBe(
      'CEL type error: Unknown variable: acount; did you mean "account"? (available here: account, target, config, fleet)',
    )
    expect(e.offset).toBe(0)
  })

  test('a misspelt field is a type error with the closest field', () => {
    const e = compileExpression("target.enviroment == 'x'", 'stage-select') as ExpressionError
    expect(e.message).toBe('CEL type error: No such key: enviroment; did you mean "environment"?')
    expect(e.offset).toBe(7)
  })

  test('each place has exactly its variables', () => {
    expect(variablesOf('stack-template')).toEqual(['account', 'target', 'config', 'fleet', 'region'])
    expect(variablesOf('manifest-template')).toEqual([
      'cluster',
      'account',
      'target',
      'config',
      'fleet',
      'region',
    ])
    expect(variablesOf('stage-select')).toEqual(['target', 'fleet'])
    expect(variablesOf('policy-plan')).toEqual(['plan', 'now', 'fleet'])
    expect(compileExpression('region', 'stack-select')).toBeInstanceOf(ExpressionError)
    expect(compileExpression('region', 'stack-template')).not.toBeInstanceOf(ExpressionError)
  })

  test('is compiled once per place and source', () => {
    expect(compileExpression('target.id', 'stage-select')).toBe(
      compileExpression('target.id', 'stage-select'),
    )
    expect(compileExpression('target.id', 'stage-select')).not.toBe(
      compileExpression('target.id', 'gate-template'),
    )
  })

  test('an evaluation error is an ExpressionError', () => {
    const e = compiled('config.missing', 'stack-template')
    expect(() => e.evaluate({ config: toCel({}) })).toThrow(ExpressionError)
    expect(() => e.evaluate({ config: toCel({}) })).toThrow('CEL evaluation error: No such key: missing')
  })
})

describe('toCel and fromCel', () => {
  test('whole numbers become CEL ints and come back as numbers; fractions stay doubles', () => {
    expect(toCel({ a: 2, b: 0.5, c: [1, 'x'], d: true })).toEqual({ a: 2n, b: 0.5, c: [1n, 'x'], d: true })
    expect(fromCel({ a: 2n, b: 0.5, c: [1n] })).toEqual({ a: 2, b: 0.5, c: [1] })
    expect(
      compiled('config.replicas + 1', 'stack-template').evaluate({ config: toCel({ replicas: 2 }) }),
    ).toBe(3n)
  })

  test('ints beyond the safe range keep their digits as strings', () => {
    expect(fromCel(2n ** 60n)).toBe('1152921504606846976')
  })

  test('maps become objects, timestamps ISO strings, bytes base64', () => {
    expect(fromCel(new Map<unknown, unknown>([['a', 1n]]))).toEqual({ a: 1 })
    expect(fromCel(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000Z')
    expect(fromCel(new Uint8Array([104, 105]))).toBe('aGk=')
  })
})

describe('celTimestamp', () => {
  test('answers time-zone accessors as the plain instant does, in every zone asked', () => {
    const e = compiled(
      "[now.getDayOfWeek('Europe/Berlin'), now.getHours('America/New_York'), now.getHours('Asia/Tokyo'), now.getHours()]",
      'policy-plan',
    )
    // Saturday 23:30 UTC is Sunday in Berlin and Tokyo, still Saturday evening in New York.
    const instant = new Date('2026-11-14T23:30:00Z')
    const memo = celTimestamp(instant)
    const vars = (now: Date) => ({ now, plan: toCel({ summary: {}, findings: [] }), fleet: toCel({}) })
    expect(e.evaluate(vars(memo))).toEqual(e.evaluate(vars(instant)))
    expect(e.evaluate(vars(memo))).toEqual([0n, 18n, 8n, 23n])
    expect(memo.getTime()).toBe(instant.getTime())
    expect(memo).toBeInstanceOf(Date)
  })
})
