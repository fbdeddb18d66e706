/**
 * Just enough YAML writing for the inventory files. They are written by hand rather than with a
 * YAML library's stringify so that they look like files a person keeps: comments, blank lines
 * between entries, short flow mappings for tags and config.
 */

/** Strings YAML 1.1 or 1.2 would read as something else when written without quotes. */
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i

/**
 * A scalar as YAML text: plain when that reads back as the same string in YAML 1.1 and 1.2 (and
 * inside a flow collection), double-quoted otherwise. Numbers and booleans are written as they are.
 * @example scalar('eu-central-1') === 'eu-central-1'; scalar('0001104321') === '"0001104321"'
 */
export function scalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value)
  // Starting with a letter rules out numbers, dates and YAML indicators; the rest rules out
  // characters with meaning in flow collections (`,[]{}`) and in mappings (`: `, ` #`).
  return /^[A-Za-z][A-Za-z0-9._/-]*$/.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value)
}

/**
 * A scalar as the value of a block mapping entry (`name: Team Checkout`), where spaces, commas and
 * colons not followed by a space may stay plain; double-quoted when anything could be misread.
 */
export function text(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value)
  const plain =
    /^[A-Za-z][A-Za-z0-9 ._/,;()'&+:-]*$/.test(value) && !/: | #|[: ]$/.test(value) && !RESERVED.test(value)
  return plain ? value : JSON.stringify(value)
}

/** A flow sequence: `[a, b]`. */
export function flowList(items: readonly (string | number | boolean)[]): string {
  return `[${items.map(scalar).join(', ')}]`
}

/** A flow mapping: `{ owner: checkout, cost-center: "0001104321" }`; `{}` when empty. */
export function flowMap(entries: Readonly<Record<string, string | number | boolean>>): string {
  const pairs = Object.entries(entries).map(([key, value]) => `${scalar(key)}: ${scalar(value)}`)
  return pairs.length === 0 ? '{}' : `{ ${pairs.join(', ')} }`
}

/** A `# comment` block, one line per entry, for the top of a file. */
export function commentBlock(lines: readonly string[]): string {
  return lines.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n')
}
