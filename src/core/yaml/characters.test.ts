import { describe, expect, test } from 'vitest'
import {
  describeCharacter,
  findInvisibleCharacters,
  invisibleCharacterMessage,
  type SuspiciousKind,
  yamlEscape,
} from './characters.ts'

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('findInvisibleCharacters', () => {
  test.each<[string, number[], SuspiciousKind]>([
    [
      'C0 controls but tab, line feed and carriage return',
      [...range(0x00, 0x08), 0x0b, 0x0c, ...range(0x0e, 0x1f), 0x7f],
      'control',
    ],
    ['C1 controls', range(0x80, 0x9f), 'control'],
    [
      'spaces other than U+0020',
      [0xa0, 0x1680, ...range(0x2000, 0x200a), 0x202f, 0x205f, 0x3000, 0x2800],
      'space',
    ],
    ['line and paragraph separators', [0x2028, 0x2029], 'space'],
    [
      'zero-width characters and bidirectional controls',
      [
        ...range(0x200b, 0x200f),
        ...range(0x202a, 0x202e),
        ...range(0x2060, 0x2064),
        ...range(0x2066, 0x2069),
      ],
      'invisible',
    ],
    ['variation selectors', [...range(0xfe00, 0xfe0f), 0xe0100, 0xe01ef, 0x180b], 'invisible'],
    ['tag characters', [0xe0001, ...range(0xe0020, 0xe007f)], 'invisible'],
    [
      'fillers and other default-ignorables',
      [0xad, 0x34f, 0x61c, 0x115f, 0x1160, 0x17b4, 0x180e, 0x3164, 0xffa0],
      'invisible',
    ],
    ['private use', [0xe000, 0xf8ff, 0xf0000, 0x10fffd], 'private-use'],
    ['the replacement character', [0xfffd], 'replacement'],
  ])('finds %s, at their offset', (_name, codes, kind) => {
    for (const code of codes) {
      const char = String.fromCodePoint(code)
      const found = findInvisibleCharacters(`ab${char}c`)
      expect(found, describeCharacter(code)).toEqual([
        { offset: 2, char, kind, description: expect.stringMatching(/^U\+[0-9A-F]{4,6}/) },
      ])
    }
  })

  test('leaves printable ASCII, tab, line breaks and letters of every script alone', () => {
    const printable = String.fromCharCode(...range(0x20, 0x7e))
    expect(
      findInvisibleCharacters(`${printable}\t\n\r\nÄé ß Привет Ελλάδα 日本語 한국어 مرحبا עברית हिन्दी ไทย`),
    ).toEqual([])
  })

  test('allows a byte-order mark only at the very start', () => {
    expect(findInvisibleCharacters('\ufeffa: 1')).toEqual([])
    expect(findInvisibleCharacters('a\ufeff').map((f) => f.offset)).toEqual([1])
  })

  test.each([
    ['a heart with emoji presentation', '❤\ufe0f'],
    ['a pictograph with text presentation', '☎\ufe0e'],
    ['a keycap', '1\ufe0f\u20e3'],
    ['a ZWJ sequence', '👩\u200d💻'],
    ['a ZWJ sequence with a skin tone', '👩🏽\u200d🚀'],
    ['a ZWJ sequence with variation selectors', '🏳\ufe0f\u200d🌈'],
  ])('allows the selectors and joiners of emoji: %s', (_name, emoji) => {
    expect(findInvisibleCharacters(`x ${emoji} y`)).toEqual([])
  })

  test.each([
    ['U+FE0F after a letter', 'e\ufe0f', 1],
    ['U+FE0F after a digit with no keycap', '1\ufe0f', 1],
    ['a ZWJ between letters', 'a\u200db', 1],
    ['a ZWJ after a pictograph, before a letter', '💻\u200db', 2],
    ['a ZWJ at the end', '💻\u200d', 2],
  ])('reports the same characters elsewhere: %s', (_name, text, offset) => {
    expect(findInvisibleCharacters(text).map((f) => f.offset)).toEqual([offset])
  })
})

describe('messages', () => {
  test('name the code point and say what to do, with the escape that keeps it', () => {
    const [nbsp] = findInvisibleCharacters('a\u00a0b')
    expect(invisibleCharacterMessage(nbsp!)).toBe(
      'unusual space U+00A0 (no-break space); replace it with a plain space (if it is meant, write it as the escape "\\u00A0" in a double-quoted string)',
    )
    const [tag] = findInvisibleCharacters('a\u{e0041}')
    expect(invisibleCharacterMessage(tag!)).toBe(
      'invisible character U+E0041 (tag character, an invisible "A"); delete it (if it is meant, write it as the escape "\\U000E0041" in a double-quoted string)',
    )
  })

  test.each([
    [0x200b, 'U+200B (zero-width space)'],
    [0xfe0f, 'U+FE0F (variation selector-16)'],
    [0xe0100, 'U+E0100 (variation selector-17)'],
    [0xe007f, 'U+E007F (cancel tag)'],
    [0x0007, 'U+0007 (bell)'],
    [0x0001, 'U+0001 (a C0 control)'],
    [0x0091, 'U+0091 (a C1 control)'],
    [0xf0000, 'U+F0000 (private use)'],
    [0x0430, 'U+0430'],
  ])('describeCharacter(%i) is %s', (code, description) => {
    expect(describeCharacter(code)).toBe(description)
  })

  test('yamlEscape writes \\u for the Basic Multilingual Plane and \\U beyond', () => {
    expect(yamlEscape(0xa0)).toBe('\\u00A0')
    expect(yamlEscape(0xe0041)).toBe('\\U000E0041')
  })
})
