import { describe, expect, test } from 'vitest'
import { mayInterpolate, parseTemplate } from './template.ts'

describe('parseTemplate', () => {
  test('plain text is one text part, and not whole', () => {
    expect(parseTemplate('just text')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: 'just text' }],
      whole: false,
    })
    expect(parseTemplate('')).toEqual({ ok: true, parts: [], whole: false })
  })

  test('a string that is exactly one {{ expr }} is whole; surrounding spaces inside the braces are trimmed', () => {
    expect(parseTemplate('{{  config.replicas }}')).toEqual({
      ok: true,
      parts: [{ kind: 'expression', source: 'config.replicas', offset: 4 }],
      whole: true,
    })
  })

  test('text around an expression makes it not whole, even a single space', () => {
    expect(parseTemplate(' {{ a }}').ok && parseTemplate(' {{ a }}')).toMatchObject({ whole: false })
    expect(parseTemplate('{{ a }}{{ b }}')).toMatchObject({ whole: false })
  })

  test('splits text and expressions, with the offset of each expression in the string', () => {
    expect(parseTemplate('*.{{ config.dns_domain }}.{{region}}')).toEqual({
      ok: true,
      parts: [
        { kind: 'text', text: '*.' },
        { kind: 'expression', source: 'config.dns_domain', offset: 5 },
        { kind: 'text', text: '.' },
        { kind: 'expression', source: 'region', offset: 28 },
      ],
      whole: false,
    })
  })

  test("'}}' inside a CEL string literal does not close the expression; escaped quotes are handled", () => {
    expect(parseTemplate('{{ \'}}\' + "a\\"}}" }}')).toEqual({
      ok: true,
      parts: [{ kind: 'expression', source: '\'}}\' + "a\\"}}"', offset: 3 }],
      whole: true,
    })
  })

  test("the escape {{ '{{' }} is an expression giving a literal {{", () => {
    expect(parseTemplate("{{ '{{' }} .Values }}")).toEqual({
      ok: true,
      parts: [
        { kind: 'expression', source: "'{{'", offset: 3 },
        { kind: 'text', text: ' .Values }}' },
      ],
      whole: false,
    })
  })

  test("CloudFormation's dynamic references are text, even with an expression-like part inside", () => {
    expect(parseTemplate('{{resolve:ssm:/path/{{ x }}}}')).toMatchObject({ ok: true, whole: false })
    expect(parseTemplate('{{resolve:secretsmanager:arn:SecretString:password}}')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: '{{resolve:secretsmanager:arn:SecretString:password}}' }],
      whole: false,
    })
    // An unterminated dynamic reference (split over a !Join) is left alone too.
    expect(parseTemplate('{{resolve:secretsmanager:')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: '{{resolve:secretsmanager:' }],
      whole: false,
    })
    expect(parseTemplate('x-{{resolve:ssm:a}}-{{ region }}')).toEqual({
      ok: true,
      parts: [
        { kind: 'text', text: 'x-{{resolve:ssm:a}}-' },
        { kind: 'expression', source: 'region', offset: 23 },
      ],
      whole: false,
    })
  })

  test('${} (CloudFormation !Sub) is plain text', () => {
    expect(parseTemplate('${AWS::Region}-${Env}')).toEqual({
      ok: true,
      parts: [{ kind: 'text', text: '${AWS::Region}-${Env}' }],
      whole: false,
    })
  })

  test('an unterminated {{ is an error at the {{', () => {
    expect(parseTemplate('a {{ b')).toEqual({
      ok: false,
      offset: 2,
      message:
        'unterminated "{{": close it with "}}", write a literal "{{" as {{ \'{{\' }}, or set interpolate: false for the component',
    })
    expect(parseTemplate("{{ 'unclosed string }}")).toMatchObject({ ok: false, offset: 0 })
  })

  test('an empty {{ }} is an error at the {{', () => {
    expect(parseTemplate('x{{   }}')).toEqual({
      ok: false,
      offset: 1,
      message: 'empty "{{ }}": put a CEL expression inside',
    })
  })
})

describe('mayInterpolate', () => {
  test('is true only for strings containing {{', () => {
    expect(mayInterpolate('a {{ b }}')).toBe(true)
    expect(mayInterpolate('a { b }')).toBe(false)
    expect(mayInterpolate('${a}')).toBe(false)
  })
})
