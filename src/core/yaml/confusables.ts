import { describeCharacter, yamlEscape } from './characters.ts'

/**
 * Look-alike letters: a word that mixes scripts (`prod` with a Greek `ο`, `metadata` with a
 * Cyrillic `а`) is a different word that nobody can see. The rule is Unicode's "highly
 * restrictive" profile (UTS #39, section 5.2) applied to every word of every string: the letters
 * of one word are all of one script, or of one of the combinations that writing systems really
 * use — Latin with Han, Hiragana and Katakana (Japanese), with Han and Bopomofo (Chinese), with
 * Han and Hangul (Korean). Digits, punctuation and combining marks belong to every script.
 * A word wholly in Cyrillic, Greek, Arabic, Han… is fine, as is `café` or `Straße`.
 *
 * Scripts are Unicode's `Script_Extensions`, read through regular-expression property escapes.
 */

/** Unicode's scripts (long names of the `Script` property). Names the runtime does not know are skipped. */
const SCRIPT_NAMES = (
  'Adlam Caucasian_Albanian Ahom Arabic Imperial_Aramaic Armenian Avestan Balinese Bamum Bassa_Vah ' +
  'Batak Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Chakma Canadian_Aboriginal Carian ' +
  'Cham Cherokee Chorasmian Coptic Cypro_Minoan Cypriot Cyrillic Devanagari Dives_Akuru Dogra Deseret ' +
  'Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Garay Georgian Glagolitic Gunjala_Gondi ' +
  'Masaram_Gondi Gothic Grantha Greek Gujarati Gurmukhi Gurung_Khema Hangul Han Hanunoo Hatran Hebrew ' +
  'Hiragana Anatolian_Hieroglyphs Pahawh_Hmong Nyiakeng_Puachue_Hmong Old_Hungarian Old_Italic ' +
  'Javanese Kayah_Li Katakana Kawi Kharoshthi Khmer Khojki Khitan_Small_Script Kannada Kaithi Kirat_Rai ' +
  'Tai_Tham Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Mandaic ' +
  'Manichaean Marchen Medefaidrin Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Malayalam Modi ' +
  'Mongolian Mro Meetei_Mayek Multani Myanmar Nag_Mundari Nandinagari Old_North_Arabian Nabataean Newa ' +
  'Nko Nushu Ogham Ol_Chiki Ol_Onal Old_Turkic Oriya Osage Osmanya Old_Uyghur Palmyrene Pau_Cin_Hau ' +
  'Old_Permic Phags_Pa Inscriptional_Pahlavi Psalter_Pahlavi Phoenician Miao Inscriptional_Parthian ' +
  'Rejang Hanifi_Rohingya Runic Samaritan Old_South_Arabian Saurashtra SignWriting Shavian Sharada ' +
  'Siddham Khudawadi Sinhala Sogdian Old_Sogdian Sora_Sompeng Soyombo Sundanese Sunuwar Syloti_Nagri ' +
  'Syriac Tagbanwa Takri Tai_Le New_Tai_Lue Tamil Tangut Tai_Viet Telugu Tifinagh Tagalog Thaana Thai ' +
  'Tibetan Tirhuta Tangsa Todhri Toto Tulu_Tigalari Ugaritic Vai Vithkuqi Warang_Citi Wancho ' +
  'Old_Persian Cuneiform Yezidi Yi Zanabazar_Square'
).split(' ')

let scriptTests: readonly (readonly [string, RegExp])[] | undefined

function scriptPatterns(): readonly (readonly [string, RegExp])[] {
  scriptTests ??= SCRIPT_NAMES.flatMap((name) => {
    try {
      return [[name.replaceAll('_', ' '), new RegExp(`^\\p{Script_Extensions=${name}}$`, 'u')] as const]
    } catch {
      return [] // a script newer than this runtime's Unicode data: its letters count as no script
    }
  })
  return scriptTests
}

/**
 * Characters that belong to every script: digits, punctuation, symbols, combining marks; and
 * those fonts draw as nothing (a Hangul filler, a Khmer inherent vowel), which are reported as
 * invisible characters already, not a second time as a mix of scripts.
 */
const ANY_SCRIPT =
  /^[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}\p{Default_Ignorable_Code_Point}]$/u

const scriptCache = new Map<number, ReadonlySet<string> | null>()

/** The scripts a character is used in (its `Script_Extensions`), or null when it belongs to all. */
function scriptsOf(char: string): ReadonlySet<string> | null {
  const code = char.codePointAt(0)!
  let scripts = scriptCache.get(code)
  if (scripts === undefined) {
    if (ANY_SCRIPT.test(char)) scripts = null
    else {
      const found = new Set(scriptPatterns().flatMap(([name, pattern]) => (pattern.test(char) ? [name] : [])))
      scripts = found.size > 0 ? found : null
    }
    scriptCache.set(code, scripts)
  }
  return scripts
}

/** The mixes of scripts that one word may use (UTS #39 "highly restrictive"). */
const ALLOWED_MIXES: readonly ReadonlySet<string>[] = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
]

/**
 * Non-ASCII letters that look like ASCII ones, for messages ("which looks like "a"") and for
 * keys written wholly in look-alikes. Fullwidth and mathematical letters are found by NFKC
 * normalisation; this covers the Cyrillic, Greek, Armenian and small-capital look-alikes NFKC keeps.
 */
const LOOK_ALIKES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    а: 'a',
    в: 'B',
    е: 'e',
    ё: 'e',
    і: 'i',
    ї: 'i',
    ј: 'j',
    к: 'k',
    м: 'M',
    н: 'H',
    о: 'o',
    р: 'p',
    с: 'c',
    т: 'T',
    у: 'y',
    х: 'x',
    ѕ: 's',
    ԁ: 'd',
    ԛ: 'q',
    ԝ: 'w',
    ү: 'y',
    һ: 'h',
    ӏ: 'l',
    ɡ: 'g',
    ı: 'i',
    ȷ: 'j',
    А: 'A',
    В: 'B',
    Е: 'E',
    К: 'K',
    М: 'M',
    Н: 'H',
    О: 'O',
    Р: 'P',
    С: 'C',
    Т: 'T',
    Х: 'X',
    І: 'I',
    Ј: 'J',
    Ѕ: 'S',
    Ү: 'Y',
    Ԛ: 'Q',
    Ԝ: 'W',
    α: 'a',
    ο: 'o',
    ν: 'v',
    ρ: 'p',
    υ: 'u',
    ι: 'i',
    κ: 'k',
    τ: 't',
    χ: 'x',
    ϲ: 'c',
    ϳ: 'j',
    Α: 'A',
    Β: 'B',
    Ε: 'E',
    Ζ: 'Z',
    Η: 'H',
    Ι: 'I',
    Κ: 'K',
    Μ: 'M',
    Ν: 'N',
    Ο: 'O',
    Ρ: 'P',
    Τ: 'T',
    Υ: 'Y',
    Χ: 'X',
    Ϲ: 'C',
    օ: 'o',
    ս: 'u',
    ց: 'g',
    ᴀ: 'A',
    ᴄ: 'C',
    ᴏ: 'O',
    ᴠ: 'V',
    ᴡ: 'W',
    ᴢ: 'Z',
    ʏ: 'Y',
    ʜ: 'H',
    ɪ: 'I',
    ʟ: 'L',
  }),
)

/**
 * The ASCII text `char` is mistaken for, if any: from the table, or by NFKC for letters and
 * digits (`ｎ` → `n`, `𝐝` → `d`, `ﬁ` → `fi`, `３` → `3`; not `²`, which is seen to be raised).
 */
function asciiLookAlike(char: string): string | undefined {
  if (char.charCodeAt(0) <= 0x7f) return undefined
  const table = LOOK_ALIKES.get(char)
  if (table !== undefined) return table
  if (!/^[\p{L}\p{Nd}]$/u.test(char)) return undefined
  const normalised = char.normalize('NFKC')
  return /^[\x21-\x7e]+$/.test(normalised) ? normalised : undefined
}

/** A word with a look-alike letter, and where that letter is. */
export interface ConfusableWord {
  /** Offset of the look-alike letter in the text that was searched. */
  readonly offset: number
  readonly word: string
  readonly message: string
}

/** Where the text comes from: a key (checked more strictly, since keys are matched by name) or a value. */
export interface ConfusableOptions {
  /** The whole key, for messages; set only when the text is a mapping key. */
  readonly key?: string
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu
const ASCII_ONLY = /^\p{ASCII}*$/u
const ASCII_ALNUM = /[A-Za-z0-9]/

/**
 * Finds the words of `text` with a look-alike letter, at most one finding per word:
 * - a word that mixes scripts beyond the highly restrictive profile (`prοd` with a Greek `ο`);
 * - a fullwidth or mathematical letter in a word with ASCII letters or digits (`ｐrod`);
 * - in keys only: any look-alike letter (`ｎame`, `ɡroup` with a Latin small script g), and a key
 *   word written wholly in letters that look like ASCII ones (`АРІ` in Cyrillic). Values may hold
 *   such words — Russian has one-letter words like `в` and `с` — keys are matched by name.
 *
 * `text` is the source text of a string: an escape in a double-quoted string (`"\u0430"`) is not
 * a letter there, which is how a mix that is meant is written. Callers blank escapes out first.
 */
export function findConfusableWords(text: string, options: ConfusableOptions = {}): ConfusableWord[] {
  if (ASCII_ONLY.test(text)) return []
  const found: ConfusableWord[] = []
  WORD.lastIndex = 0
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const word = m[0]
    if (ASCII_ONLY.test(word)) continue
    const finding = mixedScripts(word, options) ?? lookAlike(word, options)
    if (finding) found.push({ offset: m.index + finding.index, word, message: finding.message })
  }
  return found
}

interface WordFinding {
  readonly index: number
  readonly message: string
}

/** The first letter of `word` outside its main script, when the word's scripts may not be mixed. */
function mixedScripts(word: string, options: ConfusableOptions): WordFinding | undefined {
  const letters: { index: number; char: string; scripts: ReadonlySet<string> }[] = []
  let index = 0
  for (const char of word) {
    const scripts = scriptsOf(char)
    if (scripts !== null) letters.push({ index, char, scripts })
    index += char.length
  }
  if (letters.length < 2) return undefined
  const counts = new Map<string, number>()
  for (const { scripts } of letters) for (const s of scripts) counts.set(s, (counts.get(s) ?? 0) + 1)
  if ([...counts.values()].some((n) => n === letters.length)) return undefined
  if (ALLOWED_MIXES.some((mix) => letters.every(({ scripts }) => [...scripts].some((s) => mix.has(s)))))
    return undefined
  let main = ''
  for (const [script, n] of counts) if (n > (counts.get(main) ?? 0)) main = script
  const odd = letters.find(({ scripts }) => !scripts.has(main))!
  const other = [...odd.scripts].join('/')
  const code = odd.char.codePointAt(0)!
  const looksLike = asciiLookAlike(odd.char)
  const subject = options.key === undefined ? `"${word}"` : `key "${options.key}"`
  return {
    index: odd.index,
    message:
      `${subject} mixes ${main} and ${other}: ${describeCharacter(code)} is ${other}` +
      `${looksLike === undefined ? '' : ` and looks like "${looksLike}"`}; type it again in ${main} ` +
      `(if the mix is meant, write the letter as the escape "${yamlEscape(code)}" in a double-quoted string)`,
  }
}

/** A look-alike in a word of one script: fullwidth letters among ASCII ones; in keys, also whole look-alike words. */
function lookAlike(word: string, options: ConfusableOptions): WordFinding | undefined {
  const key = options.key !== undefined
  const withAscii = ASCII_ALNUM.test(word)
  let index = 0
  let first: { index: number; char: string; looksLike: string } | undefined
  let allLookAlike = true
  for (const char of word) {
    const looksLike = asciiLookAlike(char)
    if (looksLike !== undefined) {
      const byNfkc = char.normalize('NFKC') === looksLike
      if ((key && withAscii) || (withAscii && byNfkc) || (key && byNfkc))
        return { index, message: lookAlikeMessage(char, looksLike, options) }
      first ??= { index, char, looksLike }
    } else if (/\p{L}/u.test(char) && char.charCodeAt(0) > 0x7f) {
      allLookAlike = false
    }
    index += char.length
  }
  if (key && first && allLookAlike) {
    const spelt = [...word].map((c) => asciiLookAlike(c) ?? c).join('')
    return {
      index: first.index,
      message: `key "${options.key}" is written in letters that look like ASCII ones ("${spelt}") but are not; type the key again in plain ASCII`,
    }
  }
  return undefined
}

function lookAlikeMessage(char: string, looksLike: string, options: ConfusableOptions): string {
  const what = `${describeCharacter(char.codePointAt(0)!)}, which looks like "${looksLike}"`
  if (options.key !== undefined)
    return `key "${options.key}" contains ${what}; type the key again in plain ASCII`
  return `value contains ${what}; type it again in plain ASCII (if it is meant, write it as the escape "${yamlEscape(char.codePointAt(0)!)}" in a double-quoted string)`
}
