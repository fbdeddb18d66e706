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

describe('parseYamlFile: YAML that could be misread', () => {
  test.each([
    ['a flow mapping', '{ a: 1, b "2" }\n', 'f.yaml:1:9: "b "2"" has no ":" after it'],
    ['a nested flow mapping', 'x:\n  y: { a: 1, b "2", c: 3 }\n', 'f.yaml:2:14: "b "2"" has no ":" after it'],
    [
      'a flow mapping entry without value',
      'tags: { owner: a, team }\n',
      'f.yaml:1:19: "team" has no ":" after it',
    ],
    ['an explicit key without value', '? a\nb: 1\n', 'f.yaml:1:3: "a" has no ":" after it'],
  ])('a key without a colon in %s is an error, not a key with a null value', (_name, text, message) => {
    const { file, errors, rules } = parse(text)
    expect(file).toBeUndefined()
    expect(rules).toEqual(['missing-colon'])
    expect(errors[0]).toContain(message)
  })

  test('an empty value after a colon is still a null value', () => {
    expect(parseValid('a:\nb: { c: }\n').documents[0]!.value).toEqual({ a: null, b: { c: null } })
  })

  test.each([
    ['a plain alias', 'a: *nope\n', 'f.yaml:1:4'],
    ['an alias in a list', 'a: &x 1\nb: [*x, *y]\n', 'f.yaml:2:9'],
    ['an alias before its anchor', 'a: *x\nb: &x 1\n', 'f.yaml:1:4'],
    ['an alias to an anchor of another document', 'a: &x 1\n---\nb: *x\n', 'f.yaml:3:4'],
    ['a merge of an undefined alias', 'a:\n  <<: *defaults\n  b: 1\n', 'f.yaml:2:7'],
  ])('an undefined alias (%s) is an error, not a silent null', (_name, text, at) => {
    const { file, errors, rules } = parse(text)
    expect(file).toBeUndefined()
    expect(rules).toEqual(['undefined-alias'])
    expect(errors[0]).toMatch(new RegExp(`^${at.replaceAll('.', '\\.')}: alias \\*\\w+ refers to no anchor`))
  })

  test('an anchor defined again takes over from its own position', () => {
    expect(parseValid('a: &x 1\nb: *x\nc: &x 2\nd: *x\n').documents[0]!.value).toEqual({
      a: 1,
      b: 1,
      c: 2,
      d: 2,
    })
  })

  test.each([
    ['a list', 'a: &a [1, *a]\n', 'f.yaml:1:11'],
    ['a mapping', 'a: &a { b: { c: *a } }\n', 'f.yaml:1:17'],
    ['a merge', 'a: &a\n  <<: *a\n', 'f.yaml:2:7'],
  ])('an alias inside the value it refers to (%s) is an error, not endless recursion', (_name, text, at) => {
    const { errors, rules } = parse(text)
    expect(rules).toEqual(['recursive-alias'])
    expect(errors[0]).toMatch(
      new RegExp(`^${at.replaceAll('.', '\\.')}: alias \\*a is inside the value anchored as &a`),
    )
  })

  test.each([
    ['a scalar', 'a:\n  <<: 1\n  b: 2\n', 'f.yaml:2:7', 'not a number'],
    ['a string', 'a:\n  <<: defaults\n', 'f.yaml:2:7', 'not a string'],
    ['nothing', 'a:\n  <<:\n  b: 1\n', 'f.yaml:2:6', 'not nothing'],
    ['an alias of a string', 'x: &x s\na:\n  <<: *x\n', 'f.yaml:3:7', 'not a string'],
    ['an alias of a list of strings', 'x: &x [s]\na:\n  <<: *x\n', 'f.yaml:1:8', 'not a string'],
    ['a list with a scalar', 'x: &x { k: 1 }\na:\n  <<: [*x, 5]\n', 'f.yaml:3:12', 'not a number'],
    ['a list with a list', 'a:\n  <<: [[1]]\n', 'f.yaml:2:8', 'not a list'],
  ])('a merge key whose value is %s is an error', (_name, text, at, what) => {
    const { file, errors, rules } = parse(text)
    expect(file).toBeUndefined()
    expect(rules).toEqual(['merge-key'])
    expect(errors[0]).toMatch(new RegExp(`^${at.replaceAll('.', '\\.')}: the merge key "<<" takes a mapping`))
    expect(errors[0]).toContain(what)
  })

  test('a merge of a mapping, an inline mapping or a list of mappings is fine', () => {
    const value = parseValid(
      'x: &x { k: 1, l: 1 }\ny: &y { l: 2, m: 2 }\na:\n  <<: [*x, *y]\n  m: 3\nb:\n  <<: { n: 4 }\n',
    ).documents[0]!.value
    expect(value).toMatchObject({ a: { k: 1, l: 1, m: 3 }, b: { n: 4 } })
  })
})

describe('parseYamlFile: YAML that could exhaust memory or the stack', () => {
  /** A "billion laughs": `levels` levels of `width` aliases of the level below. */
  const laughs = (levels: number, width: number) => {
    let text = `l0: &l0 [${Array(width).fill('lol').join(', ')}]\n`
    for (let i = 1; i <= levels; i++)
      text += `l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(', ')}]\n`
    return text
  }

  test.each([
    ['nine levels of nine', laughs(9, 9)],
    ['thirty levels of two', laughs(30, 2)],
    ['a thousand levels of two', laughs(1000, 2)],
  ])('a "billion laughs" file (%s) is an error at the alias that goes over, fast', (_name, text) => {
    const started = performance.now()
    const { file, errors, rules } = parse(text)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(file).toBeUndefined()
    expect(rules).toEqual(['alias-expansion'])
    expect(errors[0]).toMatch(
      /^f\.yaml:\d+:\d+: aliases (are expanded more than 10,000 times|add more than 100,000 values)/,
    )
  })

  test('few aliases of a large value are limited by size', () => {
    // *big is 10,011 values and 11 alias expansions: the tenth one goes over 100,000 values.
    const text = `s: &s [${Array(1000).fill('x').join(', ')}]\nbig: &big [${Array(10).fill('*s').join(', ')}]\nuse: [${Array(10).fill('*big').join(', ')}]\n`
    expect(parse(text).errors).toEqual([
      expect.stringMatching(/^f\.yaml:3:\d+: aliases add more than 100,000 values/),
    ])
  })

  test('many aliases of a small value are limited by count', () => {
    // *x is 101 expansions of 101 values: the hundredth goes over 10,000 expansions, not 100,000 values.
    const text = `y: &y 1\nx: &x [${Array(100).fill('*y').join(', ')}]\nuse: [${Array(100).fill('*x').join(', ')}]\n`
    expect(parse(text).errors).toEqual([
      expect.stringMatching(/^f\.yaml:3:\d+: aliases are expanded more than 10,000 times/),
    ])
  })

  test('aliases used as real files use them are fine', () => {
    const text = `defaults: &d { a: 1, b: [1, 2, 3], c: { d: 4 } }\n${Array.from({ length: 500 }, (_, i) => `k${i}: { <<: *d, e: ${i} }`).join('\n')}\n`
    const value = parseValid(text).documents[0]!.value as Record<string, unknown>
    expect(value.k499).toEqual({ a: 1, b: [1, 2, 3], c: { d: 4 }, e: 499 })
  })

  test.each([
    ['flow lists', `${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 'f.yaml:1:101'],
    ['unclosed flow lists', `${'['.repeat(10_000)}\n`, 'f.yaml:1:101'],
    ['flow mappings', `${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`, 'f.yaml:1:401'],
    ['block lists on one line', `${'- '.repeat(10_000)}x\n`, 'f.yaml:1:201'],
    [
      'block mappings',
      `${Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`,
      'f.yaml:101:101',
    ],
    ['nesting in a later document', `a: 1\n---\n${'['.repeat(200)}\n`, 'f.yaml:3:101'],
  ])('deep nesting (%s) is an error where it goes too deep, not a stack overflow', (_name, text, at) => {
    const { file, errors, rules } = parse(text)
    expect(file).toBeUndefined()
    expect(rules).toEqual(['too-deep'])
    expect(errors[0]).toMatch(
      new RegExp(`^${at.replaceAll('.', '\\.')}: lists and mappings are nested more than 100 levels deep`),
    )
  })

  test('nesting up to the limit is fine', () => {
    const value = parseValid(`${'['.repeat(100)}${']'.repeat(100)}\n`).documents[0]!.value
    expect(JSON.stringify(value)).toBe(`${'['.repeat(100)}${']'.repeat(100)}`)
  })

  test('aliases may not nest a value deeper than the limit either', () => {
    const text = `a: &a ${'['.repeat(60)}${']'.repeat(60)}\nb: &b [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n`
    const { errors, rules } = parse(text)
    expect(rules).toEqual(['alias-expansion'])
    expect(errors[0]).toMatch(/^f\.yaml:2:\d+: this alias nests its value more than 100 levels/)
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
    ['no-break space', '\u00a0', 'unusual space U+00A0 (no-break space); replace it with a plain space'],
    ['zero-width space', '\u200b', 'invisible character U+200B (zero-width space); delete it'],
    ['zero-width joiner', '\u200d', 'invisible character U+200D (zero-width joiner); delete it'],
    ['right-to-left override', '\u202e', 'invisible character U+202E (right-to-left override); delete it'],
    [
      'tag character',
      '\u{e0041}',
      'invisible character U+E0041 (tag character, an invisible "A"); delete it',
    ],
    [
      'variation selector after a letter',
      '\ufe0f',
      'invisible character U+FE0F (variation selector-16); delete it',
    ],
    ['bell', '\u0007', 'control character U+0007 (bell); delete it'],
    ['next line (C1)', '\u0085', 'control character U+0085 (next line, a C1 control); delete it'],
    ['escape', '\u001b', 'control character U+001B (escape); delete it'],
    ['private-use character', '\ue000', 'private-use character U+E000 (private use)'],
    [
      'ideographic space',
      '\u3000',
      'unusual space U+3000 (ideographic space); replace it with a plain space',
    ],
    ['Hangul filler', '\u3164', 'invisible character U+3164 (Hangul filler); delete it'],
    ['soft hyphen', '\u00ad', 'invisible character U+00AD (soft hyphen); delete it'],
    ['replacement character', '\ufffd', 'replacement character U+FFFD (replacement character)'],
  ])('a %s in a value is an error at its exact column', (_name, char, message) => {
    const { file, errors } = parse(`a: 1\nname: team${char}pot\n`)
    expect(file).toBeUndefined()
    expect(errors).toEqual([expect.stringContaining(`f.yaml:2:11: ${message}`)])
  })

  test('the message says how to write the character when it is meant: as an escape', () => {
    expect(parse('a: x\u200by\n').errors).toEqual([
      'f.yaml:1:5: invisible character U+200B (zero-width space); delete it (if it is meant, write it as the escape "\\u200B" in a double-quoted string)',
    ])
    expect(parse('a: x\u{e0041}\n').errors[0]).toContain('write it as the escape "\\U000E0041"')
  })

  test.each([
    ['no-break space', 'a: "x\\u00a0y"\n', 'x\u00a0y'],
    ['zero-width space', 'a: "x\\u200By"\n', 'x\u200by'],
    ['tag character', 'a: "\\U000E0041"\n', '\u{e0041}'],
    ['bell', 'a: "\\a"\n', '\u0007'],
  ])('a %s written as an escape in a double-quoted string passes', (_name, text, value) => {
    expect(parseValid(text).documents[0]!.value).toEqual({ a: value })
  })

  test('one in a key, a comment, a block scalar or a CEL expression is an error too', () => {
    expect(parse('na\u200bme: x\n').errors).toEqual([
      expect.stringMatching(/^f\.yaml:1:3: invisible character U\+200B/),
    ])
    expect(parse('a: 1 # ok\u202e\n').errors).toEqual([
      expect.stringMatching(/^f\.yaml:1:10: invisible character U\+202E/),
    ])
    expect(parse('a: |\n  line one\n  line\u00a0two\n').errors).toEqual([
      expect.stringMatching(/^f\.yaml:3:7: unusual space U\+00A0/),
    ])
    expect(parse("when: change.action == 'delete'\u200b && true\n").errors).toEqual([
      expect.stringMatching(/^f\.yaml:1:32: invisible character U\+200B/),
    ])
  })

  test('emoji keep their variation selector and their joiners', () => {
    // A heart with U+FE0F, a keycap, a technologist (person, ZWJ, laptop), a skin tone before a ZWJ.
    parseValid('a: "❤\ufe0f ok"\nb: 1\ufe0f\u20e3\nc: 🧑\u200d💻\nd: 👩🏽\u200d🚀\ne: ✔\ufe0e\n')
  })

  test('a joiner or a variation selector that is not part of an emoji is an error', () => {
    expect(parse('a: x\u200d💻\n').rules).toEqual(['invisible-character'])
    expect(parse('a: 💻\u200dx\n').rules).toEqual(['invisible-character'])
    expect(parse('a: 1\ufe0f\n').rules).toEqual(['invisible-character'])
  })

  test('tab, line feed, carriage return and plain spaces are fine', () => {
    parseValid('a: "x\ty"\r\nb:  c\n')
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
      expect.stringMatching(
        /^f\.yaml:2:4: invisible character U\+FEFF \(byte-order mark \(zero-width no-break space\)\); delete it/,
      ),
    ])
  })

  test('an invisible letter inside a word is reported once, as invisible', () => {
    expect(parse('a: admin\u17b4x\n').rules).toEqual(['invisible-character'])
    expect(parse('a: x\u3164y\n').rules).toEqual(['invisible-character'])
  })

  test('every invisible character is reported, not just the first', () => {
    expect(parse('a: x\u00a0\nb: y\u200b\n').errors).toHaveLength(2)
  })
})

describe('parseYamlFile: look-alike letters', () => {
  test('a Cyrillic letter in a key is an error at that letter', () => {
    expect(parse('a: 1\nMеtadata: x\n').errors).toEqual([
      'f.yaml:2:2: key "Mеtadata" mixes Latin and Cyrillic: U+0435 is Cyrillic and looks like "e"; type it again in Latin (if the mix is meant, write the letter as the escape "\\u0435" in a double-quoted string)',
    ])
  })

  test('in a quoted key the column accounts for the quote', () => {
    expect(parse('"prоvider": sim\n').errors).toEqual([
      expect.stringMatching(/^f\.yaml:1:4: key "prоvider" mixes/),
    ])
  })

  test('a Greek letter and a fullwidth letter are caught in keys', () => {
    expect(parse('Αpi: 1\n').rules).toEqual(['confusable-character'])
    expect(parse('ｎame: 1\n').errors).toEqual([
      'f.yaml:1:1: key "ｎame" contains U+FF4E, which looks like "n"; type the key again in plain ASCII',
    ])
  })

  test('a key written wholly in letters that look like ASCII ones is an error', () => {
    expect(parse('АРІ: 1\n').errors).toEqual([
      'f.yaml:1:1: key "АРІ" is written in letters that look like ASCII ones ("API") but are not; type the key again in plain ASCII',
    ])
  })

  test.each([
    [
      'a Cyrillic а inside metadata',
      'kind: metаdata\n',
      'f.yaml:1:10',
      'U+0430 is Cyrillic and looks like "a"',
    ],
    ['a Greek ο inside prod', 'env: prοd\n', 'f.yaml:1:8', 'U+03BF is Greek and looks like "o"'],
    ['a Cyrillic letter first', 'name: Мetadata\n', 'f.yaml:1:7', 'U+041C is Cyrillic and looks like "M"'],
    [
      'a Latin letter in a Cyrillic word',
      'name: пpивет\n',
      'f.yaml:1:8',
      'mixes Cyrillic and Latin: U+0070 is Latin;',
    ],
    ['an Arabic-Indic digit in a Latin word', 'name: prod١\n', 'f.yaml:1:11', 'U+0661 is Arabic'],
    ['a fullwidth letter among ASCII ones', 'name: ｐrod\n', 'f.yaml:1:7', 'U+FF50, which looks like "p"'],
    ['a mix in a quoted string', 'when: "target.environment == \'prοd\'"\n', 'f.yaml:1:33', 'Greek'],
    ['a mix in a list item', 'regions: [eu-west-1, eu-сentral-1]\n', 'f.yaml:1:25', 'Cyrillic'],
    ['a mix in a block scalar', 'text: |\n  first line\n  the metаdata\n', 'f.yaml:3:10', 'Cyrillic'],
  ])('%s in a value is an error at that letter', (_name, text, at, detail) => {
    const { errors, rules } = parse(text)
    expect(rules).toEqual(['confusable-character'])
    expect(errors[0]).toMatch(new RegExp(`^${at.replaceAll('.', '\\.')}: `))
    expect(errors[0]).toContain(detail)
  })

  test('a mix that is meant can be written with an escape in a double-quoted string', () => {
    expect(parseValid('name: "met\\u0430data"\n').documents[0]!.value).toEqual({ name: 'metаdata' })
    expect(parseValid('"Met\\u0430data": 1\n').documents[0]!.value).toEqual({ Metаdata: 1 })
  })

  test.each([
    ['Cyrillic', 'описание: Привет, мир — в облаке\n'],
    ['Greek', 'περιγραφή: Καλημέρα κόσμε\n'],
    ['Arabic', 'name: مرحبا بالعالم\n'],
    ['Hebrew', 'name: שלום עולם\n'],
    ['Japanese (Han, Hiragana, Katakana, Latin in one word)', 'name: Kubernetesのクラスター管理\n'],
    ['Chinese with Latin', 'name: 生产环境Kubernetes集群\n'],
    ['Korean with Han and Latin', 'name: 서버運營API\n'],
    ['Latin with accents and digits', 'name: Café Müller Straße 42 naïve ñandú\n'],
    ['fullwidth letters and digits in Japanese text', 'name: ＡＢＣ株式会社 ３号機\n'],
    ['Turkish dotless i in a value', 'name: Kapalı\n'],
    ['words of different scripts side by side', 'name: prod-прод eu_ευ 東京-tokyo\n'],
    ['escapes next to letters', 'name: "\\tпривет\\nмир"\n'],
    ['micro sign and symbols', 'name: 5µs ±2° ×3 ™\n'],
  ])('%s passes', (_name, text) => {
    parseValid(text)
  })

  test('every mixed word of a file is reported', () => {
    expect(parse('a: prοd\nb: [metаdata, ok, сlusters]\n').errors).toHaveLength(3)
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
