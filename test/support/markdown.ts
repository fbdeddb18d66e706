/** Reading the docs' Markdown in tests: its fenced code blocks and its tables. */

/** A fenced code block. */
export interface CodeBlock {
  readonly lang: string
  readonly body: string
  /** 1-based line of the opening fence, for messages. */
  readonly line: number
}

/** Fenced code blocks of a markdown text, in order; with `lang`, only those of that language. */
export function codeBlocks(markdown: string, lang?: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  for (const m of markdown.matchAll(/^```([\w-]*)\n([\s\S]*?)^```$/gm)) {
    if (lang !== undefined && m[1] !== lang) continue
    blocks.push({ lang: m[1]!, body: m[2]!, line: markdown.slice(0, m.index).split('\n').length })
  }
  return blocks
}

/** The rows of every table in a markdown text, as trimmed cells (formatters pad the columns). */
export function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
}
