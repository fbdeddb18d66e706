import { describe, expect, test } from 'vitest'
import { DiagnosticSink, formatDiagnostic } from '../diagnostics.ts'
import { CfnTag } from './cfn-tags.ts'
import { type ParsedFile, type ParseOptions, parseYamlFile } from './parse.ts'

function parse(text: string, options: ParseOptions = {}) {
  const sink = new DiagnosticSink()
  const file = parseYamlFile('f.yaml', text, sink, options)
  return {
    file,
    errors: sink.errors.map(formatDiagnostic),
    rules: sink.errors.map((d) => d.rule),
    warnings: sink.warnings.map(formatDiagnostic),
  }
}

function parseValid(text: string, options: ParseOptions = {}): ParsedFile {
  const { file, errors } = parse(text, options)
  expect(errors).toEqual([])
  return file!
}

describe('parseYamlFile: plain data', () => {
  test('converts mappings, lists and scalars, and keeps YAML 1.2 strings as strings', () => {
    const file = parseValid('a: 1\nb: [x, true, null]\nc: { d: 1.5 }\ne: yes\nf: "012"\n')
    expect(file.documents).toHaveLength(1)
    expect(file.documents[0]!.value).toEqual({
      a: 1,
      b: ['x', true, null],
      c: { d: 1.5 },
      e: 'yes',
      f: '012',
    })
  })

  test('reads every document of a multi-document file and drops empty ones', () => {
    const file = parseValid('---\n# only a comment\n---\na: 1\n---\n---\nb: 2\n---\n')
    expect(file.documents.map((d) => [d.index, d.value])).toEqual([
      [0, { a: 1 }],
      [1, { b: 2 }],
    ])
    expect(parseValid('---\n').documents).toEqual([])
  })

  test('an explicit null document is kept (it is not empty)', () => {
    expect(parseValid('a: 1\n---\n~\n').documents.map((d) => d.value)).toEqual([{ a: 1 }, null])
  })

  test('resolves aliases and merge keys; explicit keys win over merged ones', () => {
    const file = parseValid('base: &b { x: 1, y: 2 }\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n')
    expect(file.documents[0]!.value).toEqual({
      base: { x: 1, y: 2 },
      use: { x: 1, y: 2 },
      merged: { x: 1, y: 3 },
    })
  })

  test('a key called __proto__ is an own property, not the prototype', () => {
    const value = parseValid('__proto__: { polluted: true }\n').documents[0]!.value as Record<string, unknown>
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test("keeps CloudFormation's short tags as CfnTags, nested ones too", () => {
    const value = parseValid(
      'a: !Ref Name\nb: !GetAtt [Bucket, Arn]\nc: !If [Cond, !Sub "${A}-x", !Ref "AWS::NoValue"]\n',
    ).documents[0]!.value as Record<string, CfnTag>
    expect(value.a).toEqual(new CfnTag('!Ref', 'Name'))
    expect(value.b).toEqual(new CfnTag('!GetAtt', ['Bucket', 'Arn']))
    expect(value.c).toBeInstanceOf(CfnTag)
    expect(value.c!.tag).toBe('!If')
    const [cond, then, otherwise] = value.c!.value as unknown[]
    expect(cond).toBe('Cond')
    expect(then).toEqual(new CfnTag('!Sub', '${A}-x'))
    expect(otherwise).toEqual(new CfnTag('!Ref', 'AWS::NoValue'))
  })
})

describe('parseYamlFile: malformed YAML', () => {
  test('is one clear error with its position, and nothing is returned', () => {
    const { file, errors, rules } = parse('a: 1\nb: [1, 2\nc: 3\n')
    expect(file).toBeUndefined()
    expect(rules).toEqual(['malformed-yaml'])
    expect(errors[0]).toMatch(/^f\.yaml:3:\d+: malformed YAML: .*nothing in this file was loaded/)
  })

  test('a bad indentation is reported where it is', () => {
    const { errors } = parse('Metadata:\n  StackName: x\n Resources: {}\n')
    expect(errors).toEqual([
      'f.yaml:3:1: malformed YAML: All mapping items must start at the same column; fix the syntax (nothing in this file was loaded)',
    ])
  })

  test('only the first syntax error of a file is reported', () => {
    const { errors } = parse('a: [1\nb: {2\nc: "3\n')
    expect(errors).toHaveLength(1)
  })
})

describe('parseYamlFile: duplicate keys', () => {
  test('are an error at the second occurrence, naming the line of the first', () => {
    const { file, errors } = parse('a: 1\nb: 2\na: 3\n')
    expect(file).toBeUndefined()
    expect(errors).toEqual([
      'f.yaml:3:1: duplicate key "a" (first at line 1); YAML would silently keep only one — remove or rename one of them',
    ])
  })

  test('are found in nested and flow mappings', () => {
    const { errors } = parse('outer:\n  inner: { x: 1, y: 2, x: 3 }\n')
    expect(errors).toEqual([expect.stringMatching(/^f\.yaml:2:24: duplicate key "x" \(first at line 2\)/)])
  })

  test('the same key in two different mappings is fine', () => {
    parseValid('a: { x: 1 }\nb: { x: 1 }\n')
  })
})

describe('parseYamlFile: invisible characters', () => {
  test.each([
    ['no-break space', '\u00a0', 'U+00A0 (no-break space)'],
    ['zero-width space', '\u200b', 'U+200B (zero-width space)'],
    ['zero-width joiner', '\u200d', 'U+200D (zero-width joiner)'],
    ['right-to-left override', '\u202e', 'U+202E (right-to-left override)'],
  ])('a %s in a value is an error at its exact column', (_name, char, description) => {
    const { file, errors } = parse(`a: 1\nname: team${char}pot\n`)
    expect(file).toBeUndefined()
    expect(errors).toEqual([
      `f.yaml:2:11: invisible character ${description}; delete it or replace it with a plain space`,
    ])
  })

  test('one in a key is an error too', () => {
    expect(parse('na\u200bme: x\n').errors).toEqual([
      'f.yaml:1:3: invisible character U+200B (zero-width space); delete it or replace it with a plain space',
    ])
  })

  test('a byte-order mark at the very start is allowed and does not shift columns', () => {
    const { file, errors } = parse('\ufeffa: [1\n')
    expect(file).toBeUndefined()
    // The only error is the syntax error, and columns on line 1 are counted as an editor shows them.
    expect(errors).toEqual([expect.stringMatching(/^f\.yaml:2:1: malformed YAML/)])
    const sink = new DiagnosticSink()
    const parsed = parseYamlFile('f.yaml', '\ufeffkey: value\n', sink)!
    expect(sink.errors).toEqual([])
    expect(parsed.documents[0]!.value).toEqual({ key: 'value' })
    expect(parsed.documents[0]!.locate(['key'])).toEqual({ file: 'f.yaml', line: 1, col: 6 })
  })

  test('a byte-order mark anywhere else is an error', () => {
    expect(parse('a: x\nb: \ufeffy\n').errors).toEqual([
      'f.yaml:2:4: invisible character U+FEFF (byte-order mark (zero-width no-break space)); delete it or replace it with a plain space',
    ])
  })

  test('every invisible character is reported, not just the first', () => {
    expect(parse('a: x\u00a0\nb: y\u200b\n').errors).toHaveLength(2)
  })
})

describe('parseYamlFile: look-alike characters in keys', () => {
  test('a Cyrillic letter in a key is an error at that letter', () => {
    expect(parse('a: 1\nMеtadata: x\n').errors).toEqual([
      'f.yaml:2:2: key "Mеtadata" contains U+0435, which looks like "e"; type the key again in plain ASCII',
    ])
  })

  test('in a quoted key the column accounts for the quote', () => {
    expect(parse('"prоvider": sim\n').errors).toEqual([
      'f.yaml:1:4: key "prоvider" contains U+043E, which looks like "o"; type the key again in plain ASCII',
    ])
  })

  test('a Greek letter and a fullwidth letter are caught too', () => {
    expect(parse('Αpi: 1\n').rules).toEqual(['confusable-character'])
    expect(parse('ｎame: 1\n').errors).toEqual([
      'f.yaml:1:1: key "ｎame" contains U+FF4E, which looks like "n"; type the key again in plain ASCII',
    ])
  })

  test('non-ASCII text that looks like no ASCII letter is allowed in keys, and look-alikes in values', () => {
    parseValid('名前: x\nkey: Мetadata\n')
  })
})

describe('parseYamlFile: tags', () => {
  test('an unknown tag is an error at the tag, suggesting the closest short tag', () => {
    const { errors } = parse('Properties:\n  Name: !Subb "${A}"\n')
    expect(errors).toEqual([
      "f.yaml:2:9: unknown tag !Subb; did you mean !Sub? (only CloudFormation's short tags are understood)",
    ])
  })

  test("YAML's own tags are not CloudFormation's and are not errors", () => {
    expect(parseValid('a: !!str 1\n').documents[0]!.value).toEqual({ a: '1' })
  })
})

describe('parseYamlFile: YAML 1.1 booleans', () => {
  const text = 'a: yes\nb: "no"\nc: on\n'

  test('are warned about only when asked (Kubernetes manifests), and only when unquoted', () => {
    expect(parse(text).warnings).toEqual([])
    const { warnings, errors } = parse(text, { yaml11Warnings: true })
    expect(errors).toEqual([])
    expect(warnings).toEqual([
      expect.stringMatching(/^f\.yaml:1:4: warning: "yes" is a string here \(YAML 1\.2\) but a boolean/),
      expect.stringMatching(/^f\.yaml:3:4: warning: "on" is a string here/),
    ])
  })
})

describe('ParsedDocument positions', () => {
  const text = [
    'top:',
    '  list:',
    '    - name: a',
    '      value: "x {{ y }}"',
    '    - name: b',
    "  quoted: 'ab'",
    '  block: |',
    '    line one',
    '    line {{ two }}',
    '  folded: >',
    '    some {{ text }}',
    '',
  ].join('\n')
  const doc = () => parseValid(text).documents[0]!

  test('locate finds a value, locateKey its key', () => {
    expect(doc().locate(['top', 'list', 1, 'name'])).toEqual({ file: 'f.yaml', line: 5, col: 13 })
    expect(doc().locateKey(['top', 'list', 1, 'name'])).toEqual({ file: 'f.yaml', line: 5, col: 7 })
    expect(doc().locate(['top', 'list', 1])).toEqual({ file: 'f.yaml', line: 5, col: 7 })
  })

  test('a path that does not exist falls back to the nearest ancestor', () => {
    expect(doc().locate(['top', 'list', 7, 'name'])).toEqual({ file: 'f.yaml', line: 3, col: 5 })
    expect(doc().locate(['top', 'missing'])).toEqual({ file: 'f.yaml', line: 2, col: 3 })
  })

  test('locateInString points inside quoted, plain and block literal strings', () => {
    // "x {{ y }}": character 5 is the `y`, after the opening quote.
    expect(doc().locateInString(['top', 'list', 0, 'value'], 5)).toEqual({ file: 'f.yaml', line: 4, col: 20 })
    expect(doc().locateInString(['top', 'quoted'], 1)).toEqual({ file: 'f.yaml', line: 6, col: 13 })
    // Second line of the block literal: "line {{ two }}", `two` is at index 9 + 8.
    expect(doc().locateInString(['top', 'block'], 'line one\nline {{ '.length)).toEqual({
      file: 'f.yaml',
      line: 9,
      col: 13,
    })
  })

  test('locateInString steps over escapes in quoted strings', () => {
    const escaped = parseValid(`a: "\\t\\u00e9{{ x }}"\nb: 'it''s {{ y }}'\nc: "\\U0001F600{{ z }}"\n`)
      .documents[0]!
    // The value of a is "\té{{ x }}": the x is character 5, column 16 in the source.
    expect(escaped.locateInString(['a'], 5)).toEqual({ file: 'f.yaml', line: 1, col: 16 })
    // The value of b is "it's {{ y }}": the y is character 8, column 14 in the source.
    expect(escaped.locateInString(['b'], 8)).toEqual({ file: 'f.yaml', line: 2, col: 14 })
    // An emoji is two UTF-16 units in the value: the z is character 5, column 18 in the source.
    expect(escaped.locateInString(['c'], 5)).toEqual({ file: 'f.yaml', line: 3, col: 18 })
  })

  test('in a folded string the position is the start of the string', () => {
    expect(doc().locateInString(['top', 'folded'], 8)).toEqual({ file: 'f.yaml', line: 10, col: 11 })
  })
})
