import { applyPatch } from 'diff'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { prop } from '../../../test/support/plan-fixtures.ts'
import {
  cutRows,
  type DiffRow,
  describeLineChange,
  diffLines,
  type LinesView,
  propertyViews,
  ROW_PREFIX,
  visibleLine,
} from './line-diff.ts'

/** A diff as `diff -u` prints its hunks. */
function unified(before: string | null, after: string | null): string[] {
  return diffLines(before, after).rows.map((row) => `${ROW_PREFIX[row.kind]}${row.text}`)
}

/** The only view of a property change, which must be a diff by line. */
function linesView(before: unknown, after: unknown, path = 'data.Corefile'): LinesView {
  const views = propertyViews(prop(path, before, after))
  expect(views).toHaveLength(1)
  expect(views[0]!.kind).toBe('lines')
  return views[0] as LinesView
}

const COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
`

describe('diffLines', () => {
  test('a Corefile edit: the changed lines with three lines of context, as diff -u prints them', () => {
    const after = COREFILE.replace('forward . /etc/resolv.conf', 'forward . 10.0.0.2').replace(
      'cache 30',
      'cache 60\n    log',
    )
    expect(unified(COREFILE, after)).toEqual([
      '@@ -9,8 +9,9 @@',
      '        fallthrough in-addr.arpa ip6.arpa',
      '     }',
      '     prometheus :9153',
      '-    forward . /etc/resolv.conf',
      '-    cache 30',
      '+    forward . 10.0.0.2',
      '+    cache 60',
      '+    log',
      '     loop',
      '     reload',
      '     loadbalance',
    ])
    const diff = diffLines(COREFILE, after)
    expect([diff.added, diff.removed, diff.linesBefore, diff.linesAfter]).toEqual([3, 2, 17, 18])
  })

  test('changes far apart are separate hunks; near ones share one', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`)
    const far = [...lines]
    far[1] = 'two'
    far[25] = 'twenty-six'
    expect(unified(`${lines.join('\n')}\n`, `${far.join('\n')}\n`).filter((l) => l.startsWith('@@'))).toEqual(
      ['@@ -1,5 +1,5 @@', '@@ -23,7 +23,7 @@'],
    )
    const near = [...lines]
    near[10] = 'eleven'
    near[15] = 'sixteen'
    expect(
      unified(`${lines.join('\n')}\n`, `${near.join('\n')}\n`).filter((l) => l.startsWith('@@')),
    ).toEqual(['@@ -8,12 +8,12 @@'])
  })

  test('a line added at the end', () => {
    expect(unified('a\nb\nc\nd\ne\n', 'a\nb\nc\nd\ne\nf\n')).toEqual([
      '@@ -3,3 +3,4 @@',
      ' c',
      ' d',
      ' e',
      '+f',
    ])
  })

  test('a line removed in the middle', () => {
    expect(unified('1\n2\n3\n4\n5\n6\n7\n', '1\n2\n3\n5\n6\n7\n')).toEqual([
      '@@ -1,7 +1,6 @@',
      ' 1',
      ' 2',
      ' 3',
      '-4',
      ' 5',
      ' 6',
      ' 7',
    ])
  })

  test('a change of the trailing newline only is shown, with the marker of diff -u', () => {
    expect(unified('a\nb\n', 'a\nb')).toEqual([
      '@@ -1,2 +1,2 @@',
      ' a',
      '-b',
      '+b',
      '\\ No newline at end of file',
    ])
    expect(unified('a\nb', 'a\nb\n')).toEqual([
      '@@ -1,2 +1,2 @@',
      ' a',
      '-b',
      '\\ No newline at end of file',
      '+b',
    ])
    // A blank line added at the end is a line, not a marker.
    expect(unified('a\n', 'a\n\n')).toEqual(['@@ -1 +1,2 @@', ' a', '+'])
  })

  test('whitespace-only changes are visible: trailing spaces as ·, tabs and carriage returns escaped', () => {
    expect(unified('x\nkey: 1\ny\n', 'x\nkey: 1  \ny\n')).toEqual([
      '@@ -1,3 +1,3 @@',
      ' x',
      '-key: 1',
      '+key: 1··',
      ' y',
    ])
    expect(unified('a\n  b\n', 'a\n\tb\n')).toEqual(['@@ -1,2 +1,2 @@', ' a', '-  b', '+\\tb'])
    expect(unified('a\r\nb\r\n', 'a\nb\n')).toEqual(['@@ -1,2 +1,2 @@', '-a\\r', '-b\\r', '+a', '+b'])
    // An empty line becoming blanks.
    expect(unified('a\n\nb\n', 'a\n   \nb\n')).toEqual(['@@ -1,3 +1,3 @@', ' a', '-', '+···', ' b'])
  })

  test('a single-line string becoming multi-line', () => {
    expect(unified('one', 'one\ntwo\n')).toEqual([
      '@@ -1 +1,2 @@',
      '-one',
      '\\ No newline at end of file',
      '+one',
      '+two',
    ])
  })

  test('a value created or removed whole: every line, from line 0 of the empty side', () => {
    expect(unified(null, 'a\nb\n')).toEqual(['@@ -0,0 +1,2 @@', '+a', '+b'])
    expect(unified('a\nb', null)).toEqual(['@@ -1,2 +0,0 @@', '-a', '-b', '\\ No newline at end of file'])
    expect(unified('', 'a\n')).toEqual(['@@ -0,0 +1 @@', '+a'])
  })

  test('two long values that share nothing are one hunk replacing every line, quickly and the same each time', () => {
    const before = Array.from({ length: 20_000 }, (_, i) => `old ${i}`).join('\n')
    const after = `${Array.from({ length: 20_000 }, (_, i) => `new ${i}`).join('\n')}\n`
    const started = performance.now()
    const diff = diffLines(before, after)
    expect(performance.now() - started).toBeLessThan(5_000)
    expect([diff.added, diff.removed]).toEqual([20_000, 20_000])
    expect(diff.rows[0]).toEqual({ kind: 'hunk', text: '@@ -1,20000 +1,20000 @@' })
    expect(diff.rows[1]).toEqual({ kind: 'removed', text: 'old 0' })
    expect(diff.rows[20_001]).toEqual({ kind: 'no-newline', text: '\\ No newline at end of file' })
    expect(diff.rows[20_002]).toEqual({ kind: 'added', text: 'new 0' })
    expect(diff.rows.at(-1)).toEqual({ kind: 'added', text: 'new 19999' })
    expect(diffLines(before, after)).toEqual(diff)
  })

  test('a small edit of a long value is found, not shown as a whole replacement', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`)
    const edited = [...lines]
    edited[12_345] = 'changed'
    const diff = diffLines(`${lines.join('\n')}\n`, `${edited.join('\n')}\n`)
    expect([diff.added, diff.removed]).toEqual([1, 1])
    expect(diff.rows[0]!.text).toBe('@@ -12343,7 +12343,7 @@')
  })

  test('applying the diff to the value before gives the value after (property-based)', () => {
    // Lines from a small alphabet, so that values share lines and hunks have context.
    const text = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', 'c', '', 'dd', 'e f'), { maxLength: 25 }), fc.boolean())
      .map(([lines, newline]) => (lines.length === 0 ? '' : `${lines.join('\n')}${newline ? '\n' : ''}`))
    fc.assert(
      fc.property(text, text, (before, after) => {
        const diff = diffLines(before, after)
        if (before === after) return diff.rows.length === 0
        // Back to a patch: `text` is escaped only for spaces at the end, which this alphabet has none of.
        const patch = ['--- a', '+++ b', ...diff.rows.map((r) => `${ROW_PREFIX[r.kind]}${r.text}`)].join('\n')
        expect(applyPatch(before, patch)).toBe(after)
        expect(diff.added).toBe(diff.rows.filter((r) => r.kind === 'added').length)
        return true
      }),
      { seed: 18, numRuns: 300 },
    )
  })
})

describe('visibleLine', () => {
  test('control characters are escaped; trailing spaces only on changed lines', () => {
    expect(visibleLine('a\u001b[2Jb\u0085 ', false)).toBe('a\\u001b[2Jb\\u0085 ')
    expect(visibleLine('a\u001b[2Jb\u0085 ', true)).toBe('a\\u001b[2Jb\\u0085·')
    expect(visibleLine('  indented  text', true)).toBe('  indented  text')
  })
})

describe('propertyViews', () => {
  test('single-line values, and values that are not strings, stay one value change', () => {
    for (const [before, after] of [
      ['a', 'b'],
      [null, 'b'],
      [1, 2],
      [{ a: 1 }, null],
      [['x'], null],
      // A string becoming a number: a change of kind, shown as values.
      ['a\nb\n', 3],
      [{ 'Fn::Join': ['\n', ['a', 'b']] }, { 'Fn::Join': ['\n', ['a', 'c']] }],
    ] as const) {
      expect(propertyViews(prop('P', before, after, true))).toEqual([
        { kind: 'value', path: 'P', before, after, forcesReplacement: true },
      ])
    }
  })

  test('a multi-line string against a string or nothing is a diff by line, with its action', () => {
    expect(linesView('a\nb\n', 'a\nc\n').action).toBe('update')
    expect(linesView('x', 'x\n').action).toBe('update')
    expect(linesView(null, 'a\nb\n').action).toBe('create')
    expect(linesView('a\nb\n', null).action).toBe('delete')
    expect(linesView('', 'a\n').action).toBe('update')
    expect(propertyViews(prop('P', 'a\n', 'b\n', 'conditional'))[0]!.forcesReplacement).toBe('conditional')
  })

  test('describeLineChange: the size of a change', () => {
    expect(describeLineChange(linesView('a\nb\n', 'a\nc\nd\n'))).toBe('+2 -1 lines')
    expect(describeLineChange(linesView('a\nb\n', 'a\nb\nc\n'))).toBe('+1 line')
    expect(describeLineChange(linesView('a\nb\nc\n', 'a\n'))).toBe('-2 lines')
    expect(describeLineChange(linesView(null, 'a\nb\n'))).toBe('new, 2 lines')
    expect(describeLineChange(linesView('a\n', null))).toBe('removed, 1 line')
  })

  test('user data inside Fn::Base64 and Fn::Sub is diffed inside the functions', () => {
    const script = (packages: string) => ({
      'Fn::Base64': {
        'Fn::Sub': `#!/bin/bash\nyum install -y ${packages}\n/opt/start --region \${AWS::Region}\n`,
      },
    })
    const view = linesView(script('nginx'), script('nginx jq'), 'UserData')
    expect(view.path).toBe('UserData › Fn::Base64 › Fn::Sub')
    expect(view.diff.rows.map((r) => `${ROW_PREFIX[r.kind]}${r.text}`)).toEqual([
      '@@ -1,3 +1,3 @@',
      ' #!/bin/bash',
      '-yum install -y nginx',
      '+yum install -y nginx jq',
      ' /opt/start --region ${AWS::Region}',
    ])
    expect(linesView(null, script('nginx'), 'UserData').action).toBe('create')
  })

  test('functions that differ, or the list form of Fn::Sub, are shown as values', () => {
    for (const [before, after] of [
      [{ 'Fn::Base64': 'a\nb\n' }, { 'Fn::Sub': 'a\nc\n' }],
      [{ 'Fn::Sub': ['a\n${X}\n', { X: 'x' }] }, { 'Fn::Sub': ['a\n${X}\n', { X: 'y' }] }],
      [{ 'Fn::Base64': { Ref: 'Script' } }, { 'Fn::Base64': 'a\nb\n' }],
      // A function put around the text is a change of kind, shown whole.
      [{ 'Fn::Sub': 'a\nb' }, 'a\nc'],
    ]) {
      expect(propertyViews(prop('UserData', before, after)).map((v) => v.kind)).toEqual(['value'])
    }
  })

  test('an object or list created or deleted whole shows its multi-line strings by line, leaf by leaf', () => {
    const data = { Corefile: COREFILE, 'node.rules.yaml': 'groups: []\n', replicas: '2' }
    const views = propertyViews(prop('data', null, data))
    expect(views.map((v) => [v.kind, v.path])).toEqual([
      ['lines', 'data.Corefile'],
      ['lines', 'data["node.rules.yaml"]'],
      ['value', 'data.replicas'],
    ])
    expect(views[2]).toEqual({
      kind: 'value',
      path: 'data.replicas',
      before: null,
      after: '2',
      forcesReplacement: false,
    })
    const args = propertyViews(prop('spec.containers[0].args', ['-c', 'set -e\nrun\n'], null))
    expect(args.map((v) => [v.kind, v.path])).toEqual([
      ['value', 'spec.containers[0].args[0]'],
      ['lines', 'spec.containers[0].args[1]'],
    ])
    expect((args[1] as LinesView).action).toBe('delete')
  })
})

describe('cutRows', () => {
  const rows: DiffRow[] = [
    { kind: 'hunk', text: '@@ -1 +1 @@' },
    { kind: 'removed', text: 'a' },
    { kind: 'added', text: 'b' },
    { kind: 'hunk', text: '@@ -9 +9 @@' },
    { kind: 'removed', text: 'c' },
  ]

  test('keeps the first rows and counts the rest; never ends on a hunk header', () => {
    expect(cutRows(rows, 10)).toEqual({ shown: rows, more: 0 })
    expect(cutRows(rows, 3)).toEqual({ shown: rows.slice(0, 3), more: 2 })
    expect(cutRows(rows, 4)).toEqual({ shown: rows.slice(0, 3), more: 2 })
    expect(cutRows(rows, 1)).toEqual({ shown: [], more: 5 })
  })
})
