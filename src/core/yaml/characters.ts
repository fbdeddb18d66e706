/**
 * Characters that make two strings look the same while being different: the class of typo (or
 * of attack) that no reviewer can see. A value ending in a no-break space, a zero-width space in
 * a selector, a right-to-left override that reorders what an editor shows, ASCII smuggled in
 * invisible tag characters: each silently changes meaning, so each is an error with its position.
 *
 * Which characters count is decided by Unicode properties, not by a hand-kept list, so that a
 * new invisible character in a later Unicode version is caught as soon as the runtime knows it.
 * The names below only make messages readable.
 */

/**
 * Characters that are invisible, or look like a plain space, or have no agreed meaning:
 * - `Cf` format characters (zero-width spaces and joiners, bidirectional controls, soft hyphen,
 *   the tag characters of U+E0000…U+E007F);
 * - `Default_Ignorable_Code_Point`: what fonts draw as nothing (variation selectors, Hangul
 *   fillers, the combining grapheme joiner, …);
 * - `Co` private use (a font's own icons, or a blank box);
 * - `Cc` controls of C0 and C1 (bell, escape, next line, …) except tab, line feed and carriage return;
 * - `Zs`, `Zl`, `Zp`: every space and separator except the plain space U+0020;
 * - U+2800 (Braille pattern blank), drawn as a space, and U+FFFD, the replacement character
 *   a decoder puts where a file was not valid UTF-8.
 */
const SUSPICIOUS =
  /(?![\t\n\r ])[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cc}\p{Zs}\p{Zl}\p{Zp}\u2800\ufffd]/gu

const EXTENDED_PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u
const EMOJI_MODIFIER = /^\p{Emoji_Modifier}$/u

/** Names for messages: Unicode's names, lower-cased, for the characters met in practice. */
const NAMES: ReadonlyMap<number, string> = new Map([
  [0x0000, 'null'],
  [0x0007, 'bell'],
  [0x0008, 'backspace'],
  [0x000b, 'vertical tab'],
  [0x000c, 'form feed'],
  [0x001b, 'escape'],
  [0x007f, 'delete'],
  [0x0085, 'next line, a C1 control'],
  [0x00a0, 'no-break space'],
  [0x00ad, 'soft hyphen'],
  [0x034f, 'combining grapheme joiner'],
  [0x061c, 'Arabic letter mark'],
  [0x115f, 'Hangul choseong filler'],
  [0x1160, 'Hangul jungseong filler'],
  [0x1680, 'Ogham space mark'],
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
  [0x2800, 'Braille pattern blank'],
  [0x3000, 'ideographic space'],
  [0x3164, 'Hangul filler'],
  [0xfeff, 'byte-order mark (zero-width no-break space)'],
  [0xffa0, 'halfwidth Hangul filler'],
  [0xfffd, 'replacement character'],
  [0xe0001, 'language tag'],
  [0xe007f, 'cancel tag'],
])

/** What kind of suspicious character was found; it decides what the message asks for. */
export type SuspiciousKind = 'invisible' | 'space' | 'control' | 'private-use' | 'replacement'

/** An invisible or look-alike character found in a text, at a character (UTF-16) offset. */
export interface SuspiciousCharacter {
  readonly offset: number
  readonly char: string
  /** The code point and its name, e.g. `U+200B (zero-width space)`. */
  readonly description: string
}

/** An invisible, spacing, control or private-use character, as found by {@link findInvisibleCharacters}. */
export interface InvisibleCharacter extends SuspiciousCharacter {
  readonly kind: SuspiciousKind
}

/**
 * Finds invisible characters anywhere in a text (values, keys, comments: a bidirectional
 * control in a comment can reorder the lines an editor shows around it). A byte-order mark at
 * the very start is allowed (editors write it), and so are the characters that are part of an
 * emoji: a variation selector right after a pictograph (`❤️`), or a zero-width joiner between
 * two (`🧑‍💻`). A character written as an escape in a double-quoted YAML string (`"\u00a0"`) is
 * not in the text, so it passes: that is the way to write one that is really meant.
 */
export function findInvisibleCharacters(text: string): InvisibleCharacter[] {
  const found: InvisibleCharacter[] = []
  SUSPICIOUS.lastIndex = 0
  for (let m = SUSPICIOUS.exec(text); m !== null; m = SUSPICIOUS.exec(text)) {
    const char = m[0]
    if (m.index === 0 && char === '\ufeff') continue
    if (isPartOfEmoji(text, m.index, char)) continue
    const code = char.codePointAt(0)!
    found.push({ offset: m.index, char, kind: kindOf(char), description: describeCharacter(code) })
  }
  return found
}

/**
 * The message for an invisible character: what it is and what to do, including the escape to
 * write when the character is really meant.
 */
export function invisibleCharacterMessage(found: InvisibleCharacter): string {
  const keepIt = `if it is meant, write it as the escape "${yamlEscape(found.char.codePointAt(0)!)}" in a double-quoted string`
  switch (found.kind) {
    case 'space':
      return `unusual space ${found.description}; replace it with a plain space (${keepIt})`
    case 'control':
      return `control character ${found.description}; delete it (${keepIt})`
    case 'private-use':
      return `private-use character ${found.description}, which has no standard meaning and shows as a blank box or a font's own icon; delete it (${keepIt})`
    case 'replacement':
      return `replacement character ${found.description}: this is where bytes that were not valid UTF-8 were read, or a pasted "�"; save the file as UTF-8 and type the character again`
    default:
      return `invisible character ${found.description}; delete it (${keepIt})`
  }
}

/** How to write code point `code` as an escape in a YAML double-quoted string. */
export function yamlEscape(code: number): string {
  const hex = code.toString(16).toUpperCase()
  return code > 0xffff ? `\\U${hex.padStart(8, '0')}` : `\\u${hex.padStart(4, '0')}`
}

function kindOf(char: string): SuspiciousKind {
  if (char === '\ufffd') return 'replacement'
  if (/\p{Cc}/u.test(char)) return 'control'
  if (/\p{Co}/u.test(char)) return 'private-use'
  if (/[\p{Zs}\p{Zl}\p{Zp}\u2800]/u.test(char)) return 'space'
  return 'invisible'
}

/**
 * Whether the character at `offset` belongs to an emoji: U+FE0E/U+FE0F (text or emoji
 * presentation) after a pictograph or in a keycap (`1️⃣`), or a zero-width joiner between two
 * pictographs (a skin tone and a variation selector may come between). Anywhere else, after a
 * letter say, they change nothing visible and are errors.
 */
function isPartOfEmoji(text: string, offset: number, char: string): boolean {
  if (char === '\ufe0f' || char === '\ufe0e') {
    const before = codePointBefore(text, offset)
    if (before !== undefined && EXTENDED_PICTOGRAPHIC.test(before)) return true
    return before !== undefined && /^[0-9#*]$/.test(before) && text[offset + 1] === '\u20e3'
  }
  if (char === '\u200d') {
    let at = offset
    let before = codePointBefore(text, at)
    while (before !== undefined && (before === '\ufe0f' || EMOJI_MODIFIER.test(before))) {
      at -= before.length
      before = codePointBefore(text, at)
    }
    const after = String.fromCodePoint(text.codePointAt(offset + 1) ?? 0)
    return before !== undefined && EXTENDED_PICTOGRAPHIC.test(before) && EXTENDED_PICTOGRAPHIC.test(after)
  }
  return false
}

/** The code point that ends right before `offset`, as a string, or undefined at the start. */
function codePointBefore(text: string, offset: number): string | undefined {
  if (offset === 0) return undefined
  const low = text.charCodeAt(offset - 1)
  if (offset >= 2 && low >= 0xdc00 && low <= 0xdfff) {
    const high = text.charCodeAt(offset - 2)
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(offset - 2, offset)
  }
  return text[offset - 1]
}

/**
 * `U+XXXX (name)`: the code point and, for the characters with no visible form, what it is
 * (JavaScript has no table of Unicode names; the invisible ones that matter are named here, the
 * families of variation selectors and tag characters are named by rule).
 */
export function describeCharacter(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  const name = nameOf(code)
  return name === undefined ? hex : `${hex} (${name})`
}

function nameOf(code: number): string | undefined {
  const named = NAMES.get(code)
  if (named !== undefined) return named
  if (code >= 0xfe00 && code <= 0xfe0f) return `variation selector-${code - 0xfe00 + 1}`
  if (code >= 0xe0100 && code <= 0xe01ef) return `variation selector-${code - 0xe0100 + 17}`
  if (code >= 0x180b && code <= 0x180f) return 'Mongolian free variation selector'
  // Tag characters mirror ASCII: U+E0041 is an invisible "A". Saying which letter shows what was smuggled.
  if (code >= 0xe0020 && code <= 0xe007e)
    return `tag character, an invisible "${String.fromCodePoint(code - 0xe0000)}"`
  const char = String.fromCodePoint(code)
  if (code < 0x20 || code === 0x7f) return 'a C0 control'
  if (code >= 0x80 && code <= 0x9f) return 'a C1 control'
  if (/\p{Co}/u.test(char)) return 'private use'
  if (/\p{Zs}/u.test(char)) return 'a space'
  if (/\p{Cf}/u.test(char)) return 'a format character'
  if (/\p{Default_Ignorable_Code_Point}/u.test(char)) return 'a character fonts draw as nothing'
  return undefined
}
