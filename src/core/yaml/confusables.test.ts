import { describe, expect, test } from 'vitest'
import { findConfusableWords } from './confusables.ts'

const offsets = (text: string, key?: string) =>
  findConfusableWords(text, key === undefined ? {} : { key }).map((f) => [f.offset, f.word])

describe('findConfusableWords: mixed scripts (UTS #39 highly restrictive), in values and keys', () => {
  test.each([
    ['a Cyrillic а in metadata', 'metаdata', 3, 'Latin and Cyrillic: U+0430 is Cyrillic and looks like "a"'],
    ['a Greek ο in prod', 'prοd', 2, 'Latin and Greek: U+03BF is Greek and looks like "o"'],
    ['a Latin letter in a Cyrillic word', 'привеt', 5, 'Cyrillic and Latin: U+0074 is Latin;'],
    ['an Armenian letter in a Latin word', 'gօogle', 1, 'Latin and Armenian'],
    ['Greek and Cyrillic', 'αβγд', 3, 'Greek and Cyrillic'],
    ['Hangul in a Japanese word', 'ひらがな한', 4, 'mixes'],
    ['Cyrillic in a Japanese word', '東京д', 2, 'mixes'],
    ['an Arabic-Indic digit in a Latin word', 'v١', 1, 'U+0661 is Arabic'],
  ])('%s is found at the odd letter', (_name, word, at, message) => {
    const found = findConfusableWords(`x: [${word}]`)
    expect(found).toHaveLength(1)
    expect(found[0]!.offset).toBe(4 + at)
    expect(found[0]!.word).toBe(word)
    expect(found[0]!.message).toContain(message)
  })

  test.each([
    ['Latin with accents', 'Müller Straße naïve café ñandú Łódź'],
    ['Cyrillic', 'Привет мир в облаке'],
    ['Greek', 'Καλημέρα κόσμε'],
    ['Han, Hiragana and Katakana with Latin (Japanese)', 'Kubernetesのクラスター管理'],
    ['the prolonged sound mark, in Hiragana and Katakana alike', 'データベース らーめん'],
    ['Han and Bopomofo with Latin (Chinese)', '注音ㄅㄆㄇabc'],
    ['Han and Hangul with Latin (Korean)', '서버運營API'],
    ['Arabic, Hebrew, Devanagari, Thai', 'مرحبا שלום नमस्ते สวัสดี'],
    ['digits and marks', 'v1 e\u0301 ١٢٣ ३'],
    ['words of different scripts apart', 'prod-прод eu_ευ tokyo/東京'],
  ])('%s passes', (_name, text) => {
    expect(offsets(text)).toEqual([])
  })

  test('reports one finding per word, every word', () => {
    expect(offsets('prοd and metаdata, then сlusters')).toEqual([
      [2, 'prοd'],
      [12, 'metаdata'],
      [24, 'сlusters'],
    ])
  })

  test('in a key, the message names the key', () => {
    const [found] = findConfusableWords('Metаdata', { key: 'Metаdata' })
    expect(found!.message).toMatch(/^key "Metаdata" mixes Latin and Cyrillic/)
  })
})

describe('findConfusableWords: look-alikes within one script', () => {
  test('a fullwidth or mathematical letter among ASCII ones is found in values', () => {
    expect(offsets('ｐrod')).toEqual([[0, 'ｐrod']])
    expect(offsets('pro𝐝')).toEqual([[3, 'pro𝐝']])
    expect(offsets('ﬁle')).toEqual([[0, 'ﬁle']])
  })

  test('fullwidth text on its own, and Latin letters of other languages, pass in values', () => {
    expect(offsets('ＡＢＣ株式会社 ３号機 Kapalı ɡ 12m² x³ ①')).toEqual([])
  })

  test('in keys any look-alike next to ASCII letters is found, and fullwidth ones always', () => {
    expect(offsets('ｎame', 'ｎame')).toEqual([[0, 'ｎame']])
    expect(offsets('ɡroup', 'ɡroup')).toEqual([[0, 'ɡroup']])
    expect(offsets('ＡＢＣ', 'ＡＢＣ')).toEqual([[0, 'ＡＢＣ']])
  })

  test('a key wholly in letters that look like ASCII ones is found; other non-Latin keys pass', () => {
    expect(findConfusableWords('АРІ', { key: 'АРІ' })[0]!.message).toBe(
      'key "АРІ" is written in letters that look like ASCII ones ("API") but are not; type the key again in plain ASCII',
    )
    expect(offsets('описание', 'описание')).toEqual([])
    expect(offsets('名前', '名前')).toEqual([])
  })
})
