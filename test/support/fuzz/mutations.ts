import fc from 'fast-check'

/**
 * Mutations of a fleet repository's files, as plain data: what a fast-check counterexample
 * prints, and what `scripts/fuzz-fleet.ts --replay` takes back. Each one says which file it edits
 * and where (`at`, `pick`: any natural number, taken modulo what the file offers), so that the
 * same mutation applies to the same base the same way and shrinks towards the start of the file.
 */
export type Mutation =
  | { readonly op: CharOp; readonly path: string; readonly at: number; readonly pick: number }
  | { readonly op: LineOp; readonly path: string; readonly at: number; readonly pick: number }
  | { readonly op: YamlOp; readonly path: string; readonly at: number; readonly pick: number }
  | { readonly op: SemanticOp; readonly at: number; readonly pick: number }
  | { readonly op: 'delete-file'; readonly path: string }

/** Edits of single characters. */
export const CHAR_OPS = ['flip-char', 'insert-char', 'delete-chars', 'nasty-unicode', 'look-alike'] as const
/** Edits of whole lines. */
export const LINE_OPS = ['duplicate-line', 'delete-line', 'swap-lines', 'indent-line'] as const
/** Edits of the YAML structure at a line that holds a `key: value`. */
export const YAML_OPS = [
  'value-to-list',
  'value-to-block-list',
  'anchor-alias',
  'merge-key',
  'undefined-alias',
  'broken-flow',
  'deep-nesting',
  'odd-scalar',
  'tag',
  'document-marker',
] as const
/** Edits that matter for safety: each finds its lines across every file of the repository. */
export const SEMANTIC_OPS = [
  'flip-select',
  'rename-stack',
  'rename-logical-id',
  'change-type',
  'remove-resource',
  'change-identity-property',
  'add-moved-from',
  'add-condition',
  'edit-limits',
  'edit-protect',
  'edit-inventory',
] as const

type CharOp = (typeof CHAR_OPS)[number]
type LineOp = (typeof LINE_OPS)[number]
type YamlOp = (typeof YAML_OPS)[number]
type SemanticOp = (typeof SEMANTIC_OPS)[number]
/** Every operator's name. */
export type MutationOp = Mutation['op']

/** Characters that mean something to YAML, CEL or `{{ }}` templates, and ordinary ones. */
const SIGNIFICANT = [...':-[]{},#&*!|>\'"%@`?\\ \t\n=.$()<', 'a', 'Z', '0', '9']

/**
 * Characters that look like nothing, like something else, or break text apart: zero-width space,
 * no-break space, right-to-left override, byte-order mark, a tag character (a surrogate pair),
 * NUL, Cyrillic а, Greek ο, a combining accent, lone surrogates, line and paragraph separators,
 * next line, a variation selector, private use, an ideographic space, a carriage return, escape,
 * soft hyphen, a fullwidth colon.
 */
export const NASTY_CHARACTERS: readonly string[] = [
  '\u200b',
  '\u00a0',
  '\u202e',
  '\ufeff',
  '\u{e0041}',
  '\u0000',
  '\u0430',
  '\u03bf',
  '\u0301',
  '\ud800',
  '\udc00',
  '\u2028',
  '\u2029',
  '\u0085',
  '\ufe0f',
  '\ue000',
  '\u3000',
  '\r',
  '\u001b',
  '\u00ad',
  '\uff1a',
]

/** Latin letters and the Cyrillic or Greek letters drawn the same. */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  a: '\u0430',
  e: '\u0435',
  o: '\u043e',
  p: '\u0440',
  c: '\u0441',
  x: '\u0445',
  y: '\u0443',
  i: '\u0456',
  O: '\u039f',
  A: '\u0391',
  T: '\u03a4',
}

/** What replaces a scalar value to change its type or stretch the parser. */
const ODD_SCALARS = [
  'null',
  '~',
  'true',
  'no',
  '1e999',
  '0x1F',
  '-.inf',
  '.nan',
  '""',
  "''",
  '2001-12-14t21:59:43.10-05:00',
  '!!binary aGVsbG8=',
  '"\\u0000"',
  '"\\ud800"',
  '|\n  literal',
  `"${'x'.repeat(5000)}"`,
  '-1',
  '1.0e+3',
  '0o17',
  '"{{ }}"',
  '"{{ account.nope }}"',
  '"{{ 1 / 0 }}"',
  '"{{ account.name.size() }}"',
  '"{{"',
]

/** Tags put in front of a value: CloudFormation's short forms, YAML's own, and unknown ones. */
const TAGS = ['!Ref', '!Sub', '!GetAtt', '!If', '!Condition', '!!str', '!!int', '!!map', '!!set', '!Foo', '!']

/** Flow collections left open or half written. */
const BROKEN_FLOWS = [
  '{ a: 1, b "2" }',
  '[1, 2',
  '{ a: 1',
  '{ a: 1, a: 2 }',
  '[a, [b, {c: ]]',
  '{ : }',
  '{ ? a }',
]

const NESTING_DEPTHS = [8, 64, 200, 1000]

/** CloudFormation types a `Type:` becomes: protected, unprotected, new in the index, and none. */
const RESOURCE_TYPES = [
  'AWS::S3::Bucket',
  'AWS::Route53::HostedZone',
  'AWS::Route53::RecordSet',
  'AWS::SNS::Topic',
  'AWS::IAM::Policy',
  'AWS::DynamoDB::Table',
  'AWS::RDS::DBCluster',
  'AWS::EFS::FileSystem',
  'AWS::SQS::Queue',
  'AWS::Foo::Bar',
  'Custom::Thing',
]

/**
 * Conditions put on a resource: false and true for every target, true for some targets only
 * (from a template or a pseudo parameter), built from other conditions, and one never defined.
 */
const CONDITIONS: readonly (readonly [string, string | undefined])[] = [
  ['Never', '!Equals [!Ref "AWS::Region", "nowhere-1"]'],
  ['Always', '!Equals ["a", "a"]'],
  ['InProduction', '!Equals ["{{ account.environment }}", "production"]'],
  ['NotCentral', '!Not [!Equals [!Ref "AWS::Region", "eu-central-1"]]'],
  ['Both', '!And [!Equals ["a", "a"], !Equals ["{{ account.criticality }}", "tier-9"]]'],
  ['Either', '!Or [!Equals ["a", "b"], !Condition Elsewhere]'],
  ['FromAccount', '!Equals [!Ref "AWS::AccountId", "123456789012"]'],
  ['Undefined', undefined],
]

/** A fast-check arbitrary of mutations of these files (repository-relative path → text). */
export function mutationArbitrary(
  files: ReadonlyMap<string, string>,
  ops: ReadonlySet<MutationOp> = new Set(ALL_OPS),
): fc.Arbitrary<Mutation> {
  const paths = [...files.keys()].sort()
  const path = fc.constantFrom(...paths)
  const at = fc.nat()
  const pick = fc.nat()
  const enabled = <T extends MutationOp>(list: readonly T[]) => list.filter((op) => ops.has(op))
  // Weighted by how many operators each group has, so that every operator is drawn about as often.
  const arbitraries: fc.WeightedArbitrary<Mutation>[] = []
  const inFile = enabled([...CHAR_OPS, ...LINE_OPS, ...YAML_OPS])
  if (inFile.length > 0)
    arbitraries.push({
      weight: inFile.length,
      arbitrary: fc.record({ op: fc.constantFrom(...inFile), path, at, pick }) as fc.Arbitrary<Mutation>,
    })
  const semantic = enabled(SEMANTIC_OPS)
  if (semantic.length > 0)
    arbitraries.push({
      weight: semantic.length,
      arbitrary: fc.record({ op: fc.constantFrom(...semantic), at, pick }) as fc.Arbitrary<Mutation>,
    })
  if (ops.has('delete-file'))
    arbitraries.push({ weight: 1, arbitrary: fc.record({ op: fc.constant('delete-file' as const), path }) })
  if (arbitraries.length === 0) throw new Error('no mutation operator enabled')
  return fc.oneof(...arbitraries)
}

/** Every operator. */
export const ALL_OPS: readonly MutationOp[] = [
  ...CHAR_OPS,
  ...LINE_OPS,
  ...YAML_OPS,
  ...SEMANTIC_OPS,
  'delete-file',
]

/** The files after some mutations, each applied to the result of the one before. */
export function applyMutations(
  files: ReadonlyMap<string, string>,
  mutations: readonly Mutation[],
): Map<string, string> {
  let out = new Map(files)
  for (const mutation of mutations) out = applyMutation(out, mutation)
  return out
}

/** One mutation's files. A mutation with nothing to edit (an empty file, no such line) returns them unchanged. */
export function applyMutation(files: ReadonlyMap<string, string>, m: Mutation): Map<string, string> {
  const out = new Map(files)
  if (m.op === 'delete-file') {
    out.delete(m.path)
    return out
  }
  if ('path' in m) {
    const text = files.get(m.path)
    if (text === undefined) return out
    out.set(m.path, editFile(m.op, text, m.at, m.pick))
    return out
  }
  const sites = semanticSites(m.op, files)
  if (sites.length === 0) return out
  const site = sites[m.at % sites.length]!
  const text = files.get(site.path)!
  out.set(site.path, site.edit(text, m.pick))
  return out
}

function editFile(op: CharOp | LineOp | YamlOp, text: string, at: number, pick: number): string {
  switch (op) {
    case 'flip-char': {
      if (text.length === 0) return text
      const i = at % text.length
      return text.slice(0, i) + choose(SIGNIFICANT, pick) + text.slice(i + 1)
    }
    case 'insert-char': {
      const i = at % (text.length + 1)
      return text.slice(0, i) + choose(SIGNIFICANT, pick) + text.slice(i)
    }
    case 'delete-chars': {
      if (text.length === 0) return text
      const i = at % text.length
      return text.slice(0, i) + text.slice(i + 1 + (pick % 3))
    }
    case 'nasty-unicode': {
      // Code units, not code points: inserting between the halves of a surrogate pair is wanted.
      const i = at % (text.length + 1)
      return text.slice(0, i) + choose(NASTY_CHARACTERS, pick) + text.slice(i)
    }
    case 'look-alike': {
      const positions = [...text.matchAll(/[aeopcxyiOAT]/g)].map((match) => match.index)
      if (positions.length === 0) return text
      const i = positions[at % positions.length]!
      return text.slice(0, i) + LOOK_ALIKES[text[i]!]! + text.slice(i + 1)
    }
    default:
      return editLines(op, text, at, pick)
  }
}

function editLines(op: LineOp | YamlOp, text: string, at: number, pick: number): string {
  const lines = text.split('\n')
  const i = at % lines.length
  const line = lines[i]!
  switch (op) {
    case 'duplicate-line':
      lines.splice(i, 0, line)
      break
    case 'delete-line':
      lines.splice(i, 1)
      break
    case 'swap-lines': {
      const j = pick % lines.length
      lines[i] = lines[j]!
      lines[j] = line
      break
    }
    case 'indent-line':
      lines[i] = choose([' ', '  ', '    ', '\t', ''], pick) + (pick % 2 === 0 ? line : line.trimStart())
      break
    default:
      return editKeyValue(op, lines, at, pick)
  }
  return lines.join('\n')
}

/** `  key: value` lines (block or sequence entries), where structure edits apply. */
const KEY_VALUE = /^(\s*(?:- )?)([^\s#:][^:#]*?):(?:\s+(.*))?$/

function editKeyValue(op: YamlOp, lines: string[], at: number, pick: number): string {
  const candidates = lines.flatMap((line, index) => (KEY_VALUE.test(line) ? [index] : []))
  if (candidates.length === 0) return lines.join('\n')
  const i = candidates[at % candidates.length]!
  const [, lead, key, value = ''] = KEY_VALUE.exec(lines[i]!)!
  const indent = ' '.repeat(lead!.length)
  const set = (v: string) => {
    lines[i] = `${lead}${key}: ${v}`
  }
  switch (op) {
    case 'value-to-list':
      set(`[${value}]`)
      break
    case 'value-to-block-list':
      lines[i] = `${lead}${key}:`
      lines.splice(i + 1, 0, `${indent}  - ${value || 'item'}`)
      break
    case 'anchor-alias': {
      set(`&x ${value}`)
      const j = candidates[pick % candidates.length]!
      const [, leadJ, keyJ] = KEY_VALUE.exec(lines[j]!)!
      if (j !== i) lines[j] = `${leadJ}${keyJ}: *x`
      break
    }
    case 'merge-key':
      lines.splice(
        i + 1,
        0,
        `${indent}${choose(['<<: 1', '<<: *x', '<<: [1, 2]', '<<: {}', '<<: "a"', '<<:'], pick)}`,
      )
      break
    case 'undefined-alias':
      set(choose(['*x', '*undefined', '[*x]', '{ a: *x }'], pick))
      break
    case 'broken-flow':
      set(choose(BROKEN_FLOWS, pick))
      break
    case 'deep-nesting': {
      const depth = choose(NESTING_DEPTHS, pick)
      set(
        pick % 2 === 0
          ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
          : `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`,
      )
      break
    }
    case 'odd-scalar':
      set(choose(ODD_SCALARS, pick))
      break
    case 'tag':
      set(`${choose(TAGS, pick)} ${value}`)
      break
    case 'document-marker':
      lines.splice(i, 0, choose(['---', '...', '--- !!map', '%YAML 1.1\n---'], pick))
      break
  }
  return lines.join('\n')
}

/** A place where a semantic edit applies: a file and what the edit does to its text. */
interface Site {
  readonly path: string
  readonly edit: (text: string, pick: number) => string
}

/** Every site of a semantic operator in the repository, in file order. */
export function semanticSites(op: SemanticOp, files: ReadonlyMap<string, string>): Site[] {
  const sites: Site[] = []
  const stackNames = [...files.entries()]
    .filter(([p]) => p.startsWith('stacks/'))
    .flatMap(([, t]) => [...t.matchAll(/^\s*StackName:\s*(\S+)/gm)].map((m) => m[1]!))
  for (const [path, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const lines = text.split('\n')
    // The top-level key each line is under: resources are the entries of `Resources:`.
    let section = ''
    const sectionOf = lines.map((line) => {
      const top = /^([A-Za-z][A-Za-z0-9]*):/.exec(line)
      if (top) section = top[1]!
      return section
    })
    const isResourceKey = (index: number) =>
      sectionOf[index] === 'Resources' &&
      /^ {2}[A-Za-z0-9]+:\s*$/.test(lines[index]!) &&
      /^ {4}Type:/.test(lines[index + 1] ?? '')
    const onLine = (pattern: RegExp, variants: readonly ((line: string, m: RegExpExecArray) => string)[]) => {
      lines.forEach((line, index) => {
        const match = pattern.exec(line)
        if (!match) return
        sites.push({
          path,
          edit: (t, pick) => {
            const ls = t.split('\n')
            // The variant drawn, or the next one that changes this line (`!=` → `==` needs a `!=`).
            for (let k = 0; k < variants.length; k++) {
              const edited = choose(variants, pick + k)(line, match)
              if (edited === line) continue
              ls[index] = edited
              break
            }
            return ls.join('\n')
          },
        })
      })
    }
    const isStack = path.startsWith('stacks/')
    switch (op) {
      case 'flip-select':
        onLine(/^(\s*-?\s*(?:Select|select|when):\s*)(.+)$/, [
          (l) => l.replace('!=', '=='),
          (l) => l.replace('==', '!='),
          (l) => l.replace(/'test'/, "'prod'"),
          (l) => l.replace(/'production'/, "'staging'"),
          (l) => l.replace('&&', '||'),
          (_, m) => `${m[1]}false`,
          (_, m) => `${m[1]}true`,
          (_, m) => `${m[1]}${m[2]} && false`,
          (_, m) => `${m[1]}target.environment == 'nope'`,
          (_, m) => `${m[1]}account.nope == 1`,
        ])
        break
      case 'rename-stack':
        if (isStack)
          onLine(/^(\s*StackName:\s*)(\S+)(.*)$/, [
            (_, m) => `${m[1]}${m[2]}-v2${m[3]}`,
            (_, m) => `${m[1]}${stackNames.find((n) => n !== m[2]) ?? 'other'}${m[3]}`,
            (_, m) => `${m[1]}${m[2]!.toUpperCase()}${m[3]}`,
          ])
        break
      case 'rename-logical-id':
        if (isStack)
          lines.forEach((line, index) => {
            const match = /^ {2}([A-Za-z0-9]+):\s*$/.exec(line)
            if (!match || !isResourceKey(index)) return
            sites.push({
              path,
              edit: (t, pick) => {
                const ls = t.split('\n')
                ls[index] = `  ${choose([`${match[1]}2`, 'Renamed', match[1]!.toLowerCase()], pick)}:`
                return ls.join('\n')
              },
            })
          })
        break
      case 'change-type':
        onLine(
          /^(\s+Type:\s*)(AWS::\S+)(.*)$/,
          RESOURCE_TYPES.map((type) => (_, m) => `${m[1]}${type}${m[3]}`),
        )
        break
      case 'remove-resource':
        if (isStack)
          lines.forEach((_line, index) => {
            if (!isResourceKey(index)) return
            let end = index + 1
            while (end < lines.length && (/^ {3,}/.test(lines[end]!) || lines[end] === '')) end++
            sites.push({
              path,
              edit: (t) => {
                const ls = t.split('\n')
                ls.splice(index, end - index)
                return ls.join('\n')
              },
            })
          })
        break
      case 'change-identity-property':
        onLine(
          /^(\s+(?:Name|BucketName|DomainName|TableName|RoleName|CidrBlock|KeyPolicy|DBInstanceIdentifier|ReplicationGroupId|Engine):\s*)(.*)$/,
          [
            (_, m) => `${m[1]}"changed.example.org."`,
            (_, m) => `${m[1]}${m[2]!.replace(/"$/, 'x"')}`,
            (_, m) => `${m[1]}!Sub "\${AWS::AccountId}.example.org."`,
            (_, m) => `${m[1]}!GetAtt Other.Name`,
            (_, m) => `${m[1]}!ImportValue shared-name`,
            (_, m) => `${m[1]}"{{ account.name }}-{{ region }}"`,
            (_, m) => `${m[1]}!If [Never, "a", "b"]`,
            (_, m) => `${m[1]}'{{resolve:ssm:/flotilla/name}}'`,
          ],
        )
        break
      case 'add-moved-from':
        if (isStack)
          lines.forEach((line, index) => {
            const match = /^(\s*)StackName:\s*(\S+)/.exec(line)
            if (!match) return
            sites.push({
              path,
              edit: (t, pick) => {
                const ls = t.split('\n')
                const from = choose(
                  [...stackNames.filter((n) => n !== match[2]), 'never-existed', match[2]!],
                  pick,
                )
                ls.splice(index + 1, 0, `${match[1]}MovedFrom: ${from}`)
                if (pick % 2 === 1) ls[index] = `${match[1]}StackName: ${match[2]}-moved`
                return ls.join('\n')
              },
            })
          })
        break
      case 'add-condition':
        if (isStack)
          lines.forEach((_line, index) => {
            if (!isResourceKey(index)) return
            sites.push({
              path,
              edit: (t, pick) => {
                const [name, definition] = choose(CONDITIONS, pick)
                const ls = t.split('\n')
                ls.splice(index + 1, 0, `    Condition: ${name}`)
                // Undefined names are wanted too: the resource then names a condition that is not there.
                if (definition !== undefined) ls.push('Conditions:', `  ${name}: ${definition}`, '')
                return ls.join('\n')
              },
            })
          })
        break
      case 'edit-limits':
        onLine(/^(\s*(?:maxDeletes|maxShrinkPercent):\s*)(\S+)(.*)$/, [
          (_, m) => `${m[1]}0${m[3]}`,
          (_, m) => `${m[1]}100000${m[3]}`,
          (_, m) => `${m[1]}-1${m[3]}`,
          (_, m) => `${m[1]}"ten"${m[3]}`,
          (_, m) => `${m[1]}1.5${m[3]}`,
          (_, m) => `${m[1]}${m[3]}`,
        ])
        break
      case 'edit-protect':
        onLine(/^(\s*-\s*)(AWS::\S+)(.*)$/, [
          () => '',
          (_, m) => `${m[1]}AWS::S3::Bucket${m[3]}`,
          (_, m) => `${m[1]}${m[2]!.toLowerCase()}${m[3]}`,
          (_, m) => `${m[1]}Namespace${m[3]}`,
        ])
        onLine(/^protect:/, [() => 'protect: []', () => 'protect:', () => '# protect:'])
        break
      case 'edit-inventory':
        if (path.startsWith('inventory/'))
          onLine(
            /^(\s*-?\s*)(environment|lifecycle|channel|criticality|regions|group|team|kubernetesVersion|account|region):\s*(.*)$/,
            [
              (_, m) => `${m[1]}${m[2]}: production`,
              (_, m) => `${m[1]}${m[2]}: test`,
              (_, m) => `${m[1]}lifecycle: decommission-requested`,
              (_, m) => `${m[1]}lifecycle: decommissioned`,
              (_, m) => `${m[1]}${m[2]}: []`,
              (_, m) => `${m[1]}${m[2]}: [eu-central-1]`,
              (_, m) => `${m[1]}${m[2]}: ops`,
              (_, m) => `${m[1]}${m[2]}: "1.32"`,
              (_, m) => `${m[1]}channel: dev`,
            ],
          )
        break
    }
  }
  return sites
}

function choose<T>(list: readonly T[], pick: number): T {
  return list[pick % list.length]!
}

/** A mutation as one line: what it did and where (semantic edits are located when applied). */
export function describeMutation(m: Mutation): string {
  return JSON.stringify(m)
}
