/**
 * Characters that make two strings look the same while being different: the class of typo that
 * no reviewer can see. A key `Metadata` spelt with a Cyrillic `а`, or a value ending in a
 * no-break space, silently changes meaning — so they are errors, with the exact position.
 */

const INVISIBLE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00a0, 'no-break space'],
  [0x00ad, 'soft hyphen'],
  [0x034f, 'combining grapheme joiner'],
  [0x061c, 'Arabic letter mark'],
  [0x115f, 'Hangul choseong filler'],
  [0x1160, 'Hangul jungseong filler'],
  [0x17b4, 'Khmer vowel inherent aq'],
  [0x17b5, 'Khmer vowel inherent aa'],
  [0x180e, 'Mongolian vowel separator'],
  [0x2000, 'en quad'],
  [0x2001, 'em quad'],
  [0x2002, 'en space'],
  [0x2003, 'em space'],
  [0x2004, 'three-per-em space'],
  [0x2005, 'four-per-em space'],
  [0x2006, 'six-per-em space'],
  [0x2007, 'figure space'],
  [0x2008, 'punctuation space'],
  [0x2009, 'thin space'],
  [0x200a, 'hair space'],
  [0x200b, 'zero-width space'],
  [0x200c, 'zero-width non-joiner'],
  [0x200d, 'zero-width joiner'],
  [0x200e, 'left-to-right mark'],
  [0x200f, 'right-to-left mark'],
  [0x2028, 'line separator'],
  [0x2029, 'paragraph separator'],
  [0x202a, 'left-to-right embedding'],
  [0x202b, 'right-to-left embedding'],
  [0x202c, 'pop directional formatting'],
  [0x202d, 'left-to-right override'],
  [0x202e, 'right-to-left override'],
  [0x202f, 'narrow no-break space'],
  [0x205f, 'medium mathematical space'],
  [0x2060, 'word joiner'],
  [0x2061, 'function application'],
  [0x2062, 'invisible times'],
  [0x2063, 'invisible separator'],
  [0x2064, 'invisible plus'],
  [0x2066, 'left-to-right isolate'],
  [0x2067, 'right-to-left isolate'],
  [0x2068, 'first strong isolate'],
  [0x2069, 'pop directional isolate'],
  [0x3000, 'ideographic space'],
  [0x3164, 'Hangul filler'],
  [0xfeff, 'byte-order mark (zero-width no-break space)'],
  [0xffa0, 'halfwidth Hangul filler'],
])

const INVISIBLE = new RegExp(
  `[${[...INVISIBLE_NAMES.keys()].map((c) => `\\u{${c.toString(16)}}`).join('')}]`,
  'gu',
)

/** An invisible or look-alike character found in a file, at a character offset. */
export interface SuspiciousCharacter {
  readonly offset: number
  readonly char: string
  readonly description: string
}

/**
 * Finds invisible characters anywhere in a file's text. A byte-order mark at the very start is
 * allowed (editors write it); anywhere else it is an error, like every other invisible character.
 */
export function findInvisibleCharacters(text: string): SuspiciousCharacter[] {
  const found: SuspiciousCharacter[] = []
  INVISIBLE.lastIndex = 0
  for (let m = INVISIBLE.exec(text); m !== null; m = INVISIBLE.exec(text)) {
    if (m.index === 0 && m[0] === '\ufeff') continue
    const code = m[0].codePointAt(0)!
    found.push({ offset: m.index, char: m[0], description: describe(code, INVISIBLE_NAMES.get(code)!) })
  }
  return found
}

/**
 * Non-ASCII letters that look like ASCII ones. Fullwidth and mathematical letters are caught by
 * NFKC normalisation; this table covers the Cyrillic, Greek and other look-alikes NFKC keeps.
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
    '‐': '-',
    '‑': '-',
    '‒': '-',
    '–': '-',
    '—': '-',
    '−': '-',
    '∕': '/',
    '․': '.',
    ː: ':',
    '꞉': ':',
  }),
)

/**
 * Finds non-ASCII characters in a mapping key that look like an ASCII letter, digit or
 * punctuation, e.g. `Mеtadata` with a Cyrillic `е`. Other non-ASCII text (a tag key in
 * Japanese, say) is left alone.
 */
export function findLookAlikes(key: string): SuspiciousCharacter[] {
  const found: SuspiciousCharacter[] = []
  let offset = 0
  for (const char of key) {
    const code = char.codePointAt(0)!
    if (code > 0x7f) {
      const normalised = char.normalize('NFKC')
      const looksLike =
        LOOK_ALIKES.get(char) ??
        (/^[\x21-\x7e]$/.test(normalised) && normalised !== char ? normalised : undefined)
      if (looksLike !== undefined) {
        found.push({ offset, char, description: `${describe(code)}, which looks like "${looksLike}"` })
      }
    }
    offset += char.length
  }
  return found
}

function describe(code: number, name?: string): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  return name === undefined ? hex : `${hex} (${name})`
}
