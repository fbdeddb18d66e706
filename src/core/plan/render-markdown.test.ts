import { describe, expect, test } from 'vitest'
import {
  accountId,
  accountPlan,
  change,
  clusterPlan,
  fleetWidePlan,
  hostedZoneRenamePlan,
  planOf,
  prop,
} from '../../../test/support/plan-fixtures.ts'
import type { Plan } from '../model/plan.ts'
import { escapeMarkdown, GITHUB_COMMENT_LIMIT, renderPlanMarkdown } from './render-markdown.ts'

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1
}

/** Fenced code blocks must be balanced, or everything after an unclosed one renders as code. */
function fences(markdown: string): string[] {
  return markdown.split('\n').filter((line) => /^`{3,}/.test(line))
}

describe('renderPlanMarkdown at fleet scale', () => {
  test('the same change in 300 accounts is shown once, destructive first, verdict and findings on top', () => {
    const markdown = renderPlanMarkdown(hostedZoneRenamePlan(300))
    expect(markdown.length).toBeLessThan(GITHUB_COMMENT_LIMIT)
    expect(markdown.split('\n')[0]).toBe('### Flotilla plan: **denied**')
    expect(occurrences(markdown, 'same change in 300 accounts')).toBe(1)
    // The zone's address (without an account) appears once: in the group's headline.
    expect(occurrences(markdown, '<code>eu-central-1/route53-hostedzones/HostedZone</code>')).toBe(1)
    expect(markdown).toContain(
      '<details><summary>300 accounts: production 100 · staging 100 · test 100</summary>',
    )

    const at = (part: string) => {
      const i = markdown.indexOf(part)
      expect(i, part).toBeGreaterThanOrEqual(0)
      return i
    }
    expect(at('| Targets changed | **300** of 550 |')).toBeLessThan(at('#### Findings'))
    expect(at('**deny** · <code>stack-rename</code>')).toBeLessThan(
      at('**require-approval** · <code>protected-destroy</code>'),
    )
    expect(at('**require-approval**')).toBeLessThan(at('**warn** · <code>big-change</code>'))
    expect(at('#### Findings')).toBeLessThan(at('#### Approvals required (300)'))
    expect(at('#### Approvals required')).toBeLessThan(at('#### 303 changes, 4 distinct'))
    expect(at('##### Destructive and protected')).toBeLessThan(at('##### Updated'))
    expect(at('`-` **delete** <code>eu-central-1/route53-hostedzones/HostedZone</code>')).toBeLessThan(
      at('`~` **update** <code>eu-central-1/storage/Logs</code>'),
    )
    // The three account-specific updates each stay on their own.
    expect(occurrences(markdown, '`~` **update** <code>eu-central-1/storage/Logs</code>')).toBe(3)
    expect(markdown).toContain('· in account <code>100000000107</code> (acct-107)')
    expect(markdown).not.toContain('Truncated')
    expect(fences(markdown).length % 2).toBe(0)
  })

  test('a change to every target of a 3,000-account, 2,500-cluster fleet stays under the limit and says what is cut', () => {
    const plan = fleetWidePlan(3000, 2500)
    const markdown = renderPlanMarkdown(plan)
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT)
    expect(markdown.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT * 0.9)
    expect(markdown).toContain('#### 8,500 changes, 5,501 distinct')
    // The topic update is the same everywhere: the widest group comes first.
    expect(markdown).toContain(
      '`~` **update** <code>eu-central-1/baseline/Topic</code> <code>AWS::SNS::Topic</code> · **same change in 3,000 accounts**',
    )
    const shown = markdown.split('\n').filter((line) => line.startsWith('`~` **update**'))
    const note =
      /_Truncated: ([\d,]+) more changes in ([\d,]+) groups not shown \(none of them destructive or protected; the comment limit is 65,536 characters\); run `flotilla plan --format json` for the full plan\._\n$/.exec(
        markdown,
      )
    expect(note).not.toBeNull()
    const number = (text: string) => Number(text.replaceAll(',', ''))
    expect(number(note![2]!)).toBe(5501 - shown.length)
    expect(number(note![1]!)).toBe(8500 - 3000 - (shown.length - 1))
    expect(fences(markdown).length % 2).toBe(0)
  })

  test('the same change with different values per target is one group, shown with one target’s values', () => {
    const targets = Array.from({ length: 40 }, (_, i) =>
      accountPlan(accountId(i), [
        change('delete', `${accountId(i)}/eu-central-1/dns/Zone`, 'AWS::Route53::HostedZone', {
          protected: true,
          properties: [prop('Name', `zone-${i}.example.org.`, null)],
        }),
      ]),
    )
    const markdown = renderPlanMarkdown(planOf(targets))
    expect(markdown.match(/\*\*delete\*\*/g)).toHaveLength(1)
    expect(markdown).toContain('**same change in 40 accounts** · values differ per target; shown for <code>')
    expect(markdown).toContain('- Name: "zone-0.example.org."')
    expect(markdown).not.toContain('zone-1.example.org.')
  })

  test('says when destructive changes are among those left out', () => {
    const targets = Array.from({ length: 2000 }, (_, i) =>
      accountPlan(accountId(i), [
        // A zone of its own in every account (its own logical id), so that nothing groups.
        change('delete', `${accountId(i)}/eu-central-1/dns/Zone${i}`, 'AWS::Route53::HostedZone', {
          protected: true,
          properties: [prop('Name', `zone-${i}.example.org.`, null)],
        }),
      ]),
    )
    const markdown = renderPlanMarkdown(planOf(targets))
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT)
    expect(markdown).toMatch(
      /_Truncated: [\d,]+ more changes in [\d,]+ groups not shown \(some of them destructive/,
    )
  })

  test('stays under a smaller limit, keeping verdict, blast radius and the first groups', () => {
    const markdown = renderPlanMarkdown(hostedZoneRenamePlan(300), { maxLength: 3_100 })
    expect(markdown.length).toBeLessThanOrEqual(3_100)
    expect(markdown).toContain('### Flotilla plan: **denied**')
    expect(markdown).toContain('| Protected resources destroyed | **300** |')
    expect(markdown).toContain('**deny** · <code>stack-rename</code>')
    expect(markdown).toContain('**require-approval** · <code>protected-destroy</code>')
    expect(markdown).toContain('_300 addresses, left out to stay under the comment limit._')
    expect(markdown).toContain('#### Approvals required (300)')
    expect(markdown).toMatch(
      /_Truncated: .* \(none of them destructive or protected; the comment limit is 3,100 characters\)/,
    )
    expect(fences(markdown).length % 2).toBe(0)
  })

  test('drops the property details of the largest groups first when that is enough', () => {
    const big = Array.from({ length: 20 }, (_, i) =>
      prop(`Policy.Statement[${i}].Resource`, 'x'.repeat(150), 'y'.repeat(150)),
    )
    const plan = planOf([
      accountPlan(accountId(1), [
        change('update', `${accountId(1)}/eu-central-1/iam/Policy`, 'AWS::IAM::ManagedPolicy', {
          properties: big,
        }),
        change('update', `${accountId(1)}/eu-central-1/iam/Role`, 'AWS::IAM::Role', {
          properties: [prop('MaxSessionDuration', 3600, 7200)],
        }),
      ]),
    ])
    const full = renderPlanMarkdown(plan)
    expect(full).toContain('MaxSessionDuration')
    const limited = renderPlanMarkdown(plan, { maxLength: full.length - 100 })
    expect(limited.length).toBeLessThanOrEqual(full.length - 100)
    expect(limited).toContain('_20 property changes not shown, to stay under the comment limit._')
    expect(limited).toContain('~ MaxSessionDuration: 3600 → 7200')
    expect(limited).not.toContain('Truncated')
  })

  test('is deterministic: the same plan (whatever the key order of its counts) gives the same text', () => {
    const plan = hostedZoneRenamePlan(40)
    const reordered: Plan = {
      ...plan,
      summary: {
        ...plan.summary,
        byTeam: Object.fromEntries(Object.entries(plan.summary.byTeam).reverse()),
      },
    }
    expect(renderPlanMarkdown(reordered)).toBe(renderPlanMarkdown(plan))
  })
})

describe('renderPlanMarkdown order and details', () => {
  test('protected destruction, delete, replace, may-replace, moves, creates, updates', () => {
    const id = accountId(5)
    const plan = planOf([
      accountPlan(id, [
        change('update', `${id}/eu-central-1/app/Queue`, 'AWS::SQS::Queue', {
          properties: [prop('VisibilityTimeout', 30, 60)],
        }),
        change('create', `${id}/eu-central-1/app/Topic`, 'AWS::SNS::Topic', {
          properties: [prop('TopicName', null, 'events')],
        }),
        change('move', `${id}/eu-central-1/dns-zones`, 'AWS::CloudFormation::Stack', {
          movedFrom: `${id}/eu-central-1/route53-hostedzones`,
        }),
        change('update', `${id}/eu-central-1/app/Fn`, 'Custom::Thing', {
          mayReplace: true,
          properties: [prop('Size', 1, 2, 'unknown')],
        }),
        change('replace', `${id}/eu-central-1/app/Table`, 'AWS::DynamoDB::Table', {
          properties: [prop('TableName', 'a', 'b', true)],
        }),
        change('delete', `${id}/eu-central-1/app/Bucket`, 'AWS::S3::Bucket'),
        change('delete', `${id}/eu-central-1/dns/Zone`, 'AWS::Route53::HostedZone', { protected: true }),
        change('no-op', `${id}/eu-central-1/dns-zones/Zone`, 'AWS::Route53::HostedZone', { protected: true }),
      ]),
    ])
    const headlines = renderPlanMarkdown(plan)
      .split('\n')
      .filter((line) => line.startsWith('`') && !line.startsWith('```'))
      .map((line) => line.slice(0, line.indexOf('</code>') + 7))
    expect(headlines).toEqual([
      '`-` **delete** <code>eu-central-1/dns/Zone</code>',
      '`-` **delete** <code>eu-central-1/app/Bucket</code>',
      '`-/+` **replace** <code>eu-central-1/app/Table</code>',
      '`~` **update** <code>eu-central-1/app/Fn</code>',
      '`→` **move** <code>eu-central-1/dns-zones</code>',
      '`+` **create** <code>eu-central-1/app/Topic</code>',
      '`~` **update** <code>eu-central-1/app/Queue</code>',
    ])
    const markdown = renderPlanMarkdown(plan)
    expect(markdown).toContain('· moved from <code>eu-central-1/route53-hostedzones</code>')
    expect(markdown).toContain('· **may be replaced**')
    expect(markdown).toContain('```diff\n~ TableName: "a" → "b"  (forces replacement)\n```')
    expect(markdown).toContain('```diff\n~ Size: 1 → 2  (may force replacement)\n```')
    expect(markdown).toContain('```diff\n+ TopicName: "events"\n```')
  })

  test('a few targets are listed inline, with their names; cluster ids keep their colons', () => {
    const targets = ['eks:eu:a', 'eks:eu:b'].map((id) =>
      clusterPlan(id, [change('create', `${id}/kube-system/ConfigMap/dns`, 'v1/ConfigMap')]),
    )
    const markdown = renderPlanMarkdown(planOf(targets))
    expect(markdown).toContain(
      '<code>kube-system/ConfigMap/dns</code> <code>v1/ConfigMap</code> · same change in 2 clusters: <code>eks:eu:a</code> (a), <code>eks:eu:b</code> (b)',
    )
  })

  test('a plan without changes says so', () => {
    const markdown = renderPlanMarkdown(planOf([]))
    expect(markdown).toBe(
      '### Flotilla plan: **no changes**\n\n<code>HEAD&#126;1</code> (<code>3f2a9c1</code>) → <code>HEAD</code> (<code>8b1d2e0</code>)\n\nNo changes: head matches base.\n',
    )
  })
})

describe('renderPlanMarkdown escaping', () => {
  test('repository strings cannot break a table, open a code span or inject HTML', () => {
    const id = accountId(9)
    const nasty = 'a|b<script>alert(1)</script>`x`*y*_z_[l](u)'
    const plan = planOf(
      [
        accountPlan(
          id,
          [
            change('update', `${id}/eu-central-1/app/${nasty}`, 'AWS::S3::Bucket', {
              properties: [prop('Tags.note', '```\n</details><script>', 'ok | fine')],
            }),
          ],
          { name: '<img src=x onerror=alert(1)>', team: 'a|b', environment: '<b>prod</b>' },
        ),
      ],
      {
        findings: [
          { rule: 'p|olicy', effect: 'warn', message: `bad ${nasty}\nsecond line`, addresses: [nasty] },
        ],
      },
    )
    const markdown = renderPlanMarkdown(plan)
    // Inside fenced code blocks everything is literal; outside them no tag may come from the plan.
    const outsideCode = markdown.replace(/^(`{3,})[a-z]*\n[\s\S]*?\n\1\n/gm, '')
    expect(outsideCode).not.toMatch(/<script|<img|<b>|<\/details><script/)
    expect(outsideCode).toContain('&#60;img src=x onerror=alert(1)&#62;')
    expect(markdown).toContain(
      'a&#124;b&#60;script&#62;alert(1)&#60;/script&#62;&#96;x&#96;&#42;y&#42;&#95;z&#95;&#91;l&#93;(u)',
    )
    // Every table row still has exactly its two cells.
    for (const row of markdown.split('\n').filter((line) => line.startsWith('|'))) {
      expect(occurrences(row, '|'), row).toBe(3)
    }
    expect(markdown).toContain('| Top teams | a&#124;b 1 |')
    // The value with a fence in it gets a longer fence: none of its lines can end the block.
    expect(markdown).toContain(
      [
        '````diff',
        '~ Tags.note: (+1 -2 lines)',
        '@@ -1,2 +1 @@',
        '-```',
        '-</details><script>',
        '\\ No newline at end of file',
        '+ok | fine',
        '\\ No newline at end of file',
        '````',
      ].join('\n'),
    )
    expect(markdown).toContain('bad a&#124;b')
    expect(markdown).toContain('second line')
    expect(fences(markdown).length % 2).toBe(0)
  })

  test('escapeMarkdown keeps text on one line and literal', () => {
    expect(escapeMarkdown('a\r\nb & <c> $x$ ~~s~~ \\')).toBe(
      'a  b &#38; &#60;c&#62; &#36;x&#36; &#126;&#126;s&#126;&#126; &#92;',
    )
  })
})

describe('renderPlanMarkdown: multi-line strings diff by line', () => {
  const POLICY = `${JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::logs/*' },
        { Effect: 'Deny', Action: ['s3:DeleteObject'], Resource: 'arn:aws:s3:::logs/*' },
      ],
    },
    null,
    2,
  )}\n`
  const policyChange = (id: string, before: string | null, after: string | null) =>
    change('update', `${id}/eu-central-1/iam/Policy`, 'AWS::SNS::TopicPolicy', {
      properties: [prop('PolicyText', before, after)],
    })
  const onePlan = (before: string | null, after: string | null) =>
    planOf([accountPlan(accountId(1), [policyChange(accountId(1), before, after)])])
  /** The `diff` blocks of a comment, without their fences. */
  const diffBlocks = (markdown: string) =>
    [...markdown.matchAll(/^(`{3,})diff\n([\s\S]*?)\n\1$/gm)].map((m) => m[2]!.split('\n'))

  test('a policy written as a string: its hunks under the property path, in the group diff block', () => {
    const after = POLICY.replace('"s3:GetObject"', '"s3:GetObject",\n        "s3:ListBucket"')
    expect(diffBlocks(renderPlanMarkdown(onePlan(POLICY, after)))).toEqual([
      [
        '~ PolicyText: (+2 -1 lines)',
        '@@ -4,7 +4,8 @@',
        '     {',
        '       "Effect": "Allow",',
        '       "Action": [',
        '-        "s3:GetObject"',
        '+        "s3:GetObject",',
        '+        "s3:ListBucket"',
        '       ],',
        '       "Resource": "arn:aws:s3:::logs/*"',
        '     },',
      ],
    ])
  })

  test('a line added at the end, a line removed in the middle, a trailing newline removed', () => {
    const text = 'one\ntwo\nthree\nfour\nfive\n'
    expect(diffBlocks(renderPlanMarkdown(onePlan(text, `${text}six\n`)))[0]).toEqual([
      '~ PolicyText: (+1 line)',
      '@@ -3,3 +3,4 @@',
      ' three',
      ' four',
      ' five',
      '+six',
    ])
    expect(diffBlocks(renderPlanMarkdown(onePlan(text, text.replace('three\n', ''))))[0]).toEqual([
      '~ PolicyText: (-1 line)',
      '@@ -1,5 +1,4 @@',
      ' one',
      ' two',
      '-three',
      ' four',
      ' five',
    ])
    expect(diffBlocks(renderPlanMarkdown(onePlan(text, text.trimEnd())))[0]).toEqual([
      '~ PolicyText: (+1 -1 lines)',
      '@@ -2,4 +2,4 @@',
      ' two',
      ' three',
      ' four',
      '-five',
      '+five',
      '\\ No newline at end of file',
    ])
  })

  test('a single-line value becoming multi-line, a multi-line value created and removed', () => {
    expect(diffBlocks(renderPlanMarkdown(onePlan('{}', POLICY)))[0]!.slice(0, 4)).toEqual([
      '~ PolicyText: (+19 -1 lines)',
      '@@ -1 +1,19 @@',
      '-{}',
      '\\ No newline at end of file',
    ])
    const created = diffBlocks(renderPlanMarkdown(onePlan(null, 'a\n  b\n')))[0]
    expect(created).toEqual(['+ PolicyText: (new, 2 lines)', '@@ -0,0 +1,2 @@', '+a', '+  b'])
    const removed = diffBlocks(renderPlanMarkdown(onePlan('a\n  b\n', null)))[0]
    expect(removed).toEqual(['- PolicyText: (removed, 2 lines)', '@@ -1,2 +0,0 @@', '-a', '-  b'])
  })

  test('a value with fences in it gets a longer fence, whatever line they are on', () => {
    const readme = 'Run:\n```sh\nmake\n```\n````\n'
    const markdown = renderPlanMarkdown(onePlan(readme, readme.replace('make', 'make all')))
    expect(markdown).toContain(
      [
        '`````diff',
        '~ PolicyText: (+1 -1 lines)',
        '@@ -1,5 +1,5 @@',
        ' Run:',
        ' ```sh',
        '-make',
        '+make all',
        ' ```',
        ' ````',
        '`````',
      ].join('\n'),
    )
    expect(fences(markdown).length % 2).toBe(0)
  })

  test('the same change in 287 accounts is shown once, its diff too', () => {
    const after = POLICY.replace('s3:DeleteObject', 's3:*')
    const plan = planOf(
      Array.from({ length: 287 }, (_, i) =>
        accountPlan(accountId(i), [policyChange(accountId(i), POLICY, after)]),
      ),
    )
    const markdown = renderPlanMarkdown(plan)
    expect(markdown).toContain('**same change in 287 accounts**')
    expect(occurrences(markdown, '~ PolicyText: (+1 -1 lines)')).toBe(1)
    expect(occurrences(markdown, '+        "s3:*"')).toBe(1)
    expect(markdown).not.toContain('values differ per target')
  })

  test('a value that differs per target is shown for one, and says so', () => {
    const corefile = (i: number, cache: number) =>
      `.:53 {\n    forward . 10.0.${i}.2\n    cache ${cache}\n}\n`
    const plan = planOf(
      Array.from({ length: 5 }, (_, i) =>
        clusterPlan(`kube-${i}`, [
          change('update', `kube-${i}/kube-system/ConfigMap/coredns`, 'v1/ConfigMap', {
            properties: [prop('data.Corefile', corefile(i, 30), corefile(i, 60))],
          }),
        ]),
      ),
    )
    const markdown = renderPlanMarkdown(plan)
    expect(markdown).toContain('**same change in 5 clusters**')
    expect(markdown).toContain('values differ per target; shown for <code>kube-0</code>')
    expect(diffBlocks(markdown)).toEqual([
      [
        '~ data.Corefile: (+1 -1 lines)',
        '@@ -1,4 +1,4 @@',
        ' .:53 {',
        '     forward . 10.0.0.2',
        '-    cache 30',
        '+    cache 60',
        ' }',
      ],
    ])
  })

  test('a huge diff is cut with the number of lines left out, collapsed, and its long lines shortened', () => {
    const script = Array.from({ length: 1_000 }, (_, i) => `echo ${i}`).join('\n')
    const markdown = renderPlanMarkdown(onePlan(null, `${'x'.repeat(2_000)}\n${script}`))
    expect(markdown).toContain(
      '<details><summary>1 property change, 60 lines of diff</summary>\n\n```diff\n+ PolicyText: (new, 1001 lines)\n@@ -0,0 +1,1001 @@\n',
    )
    expect(markdown).toContain(`\n+${'x'.repeat(499)}… (2,000 characters)\n+echo 0\n`)
    expect(markdown).toContain('\n+echo 57\n… 943 more lines of this diff\n```\n\n</details>')
    expect(markdown).not.toContain('echo 58')
    // A short diff stays open.
    expect(renderPlanMarkdown(onePlan('a\nb\n', 'a\nc\n'))).not.toContain('<details>')
  })

  test('under the comment limit, long diffs are summed up before any property detail is dropped', () => {
    const script = (n: number) => Array.from({ length: 50 }, (_, i) => `echo ${n} ${i}`).join('\n')
    const plan = planOf([
      accountPlan(accountId(1), [
        ...Array.from({ length: 4 }, (_, n) =>
          change('update', `${accountId(1)}/eu-central-1/app/Fn${n}`, 'AWS::Lambda::Function', {
            properties: [prop('Code.ZipFile', script(n), script(n + 10)), prop('Timeout', 3, 30)],
          }),
        ),
      ]),
    ])
    const full = renderPlanMarkdown(plan)
    expect(occurrences(full, '@@ -1,50 +1,50 @@')).toBe(4)
    const limited = renderPlanMarkdown(plan, { maxLength: full.length - 100 })
    expect(limited.length).toBeLessThanOrEqual(full.length - 100)
    expect(limited).toContain(
      '~ Code.ZipFile: (+50 -50 lines; the diff is left out to stay under the comment limit)',
    )
    expect(occurrences(limited, '@@ -1,50 +1,50 @@')).toBe(3)
    expect(occurrences(limited, '~ Timeout: 3 → 30')).toBe(4)
    expect(limited).not.toContain('not shown, to stay under the comment limit')
    expect(limited).not.toContain('Truncated')
    expect(fences(limited).length % 2).toBe(0)
  })
})

describe('renderPlanMarkdown: stages', () => {
  test('stage moves have a block of their own and a row in the blast radius; each change says where it rolls out', () => {
    const moved = [1, 2, 3, 4].map((n) =>
      accountPlan(accountId(n), [], { stage: 'dev', stageMove: { from: 'stable', to: 'dev' } }),
    )
    const bucket = change('update', `${accountId(5)}/eu-central-1/logs/Bucket`, 'AWS::S3::Bucket', {
      properties: [prop('Tags.team', 'a', 'b')],
    })
    const markdown = renderPlanMarkdown(
      planOf([
        ...moved,
        accountPlan(accountId(5), [bucket], { stage: 'beta', stageMove: { from: 'alpha', to: 'beta' } }),
      ]),
    )
    expect(markdown).toContain('| Stage moves | **5** |')
    expect(markdown).toContain('| By stage | beta 1 · dev 4 |')
    expect(markdown).toContain(
      '#### Stage moves (5)\n\n- <code>stable</code> → <code>dev</code>: 4 accounts (production 4), 4 with no other change\n\n<details><summary>4 accounts</summary>',
    )
    expect(markdown).toContain(
      `- <code>alpha</code> → <code>beta</code>: 1 account (production 1): <code>${accountId(5)}</code> (account-0005)\n`,
    )
    expect(markdown).toContain(
      `in account <code>${accountId(5)}</code> (account-0005) · stage <code>beta</code>`,
    )
    // The moves come before the changes: where a change goes is read first.
    expect(markdown.indexOf('#### Stage moves')).toBeLessThan(markdown.indexOf('#### 1 change'))
  })

  test('a plan without stage moves has neither the block nor the row', () => {
    const markdown = renderPlanMarkdown(hostedZoneRenamePlan(10))
    expect(markdown).not.toContain('Stage moves')
    expect(markdown).toContain('| By stage | prod 10 |')
    expect(markdown).toContain('· stage <code>prod</code>')
  })
})
