import { describe, expect, test } from 'vitest'
import {
  accountId,
  accountPlan,
  change,
  clusterPlan,
  hostedZoneRenamePlan,
  planOf,
  prop,
} from '../../../test/support/plan-fixtures.ts'
import type { Change, Plan } from '../model/plan.ts'
import { relativeAddress, stableJson, wrapWords } from './render-common.ts'
import { renderPlanText } from './render-text.ts'

const ESC = '\u001b'

/** One account with every action, one cluster, findings and approvals. */
function mixedPlan(): Plan {
  const a = '263820974194'
  const c = 'eks:eu-central-1:main'
  return planOf(
    [
      accountPlan(
        a,
        [
          change('move', `${a}/eu-central-1/dns-zones`, 'AWS::CloudFormation::Stack', {
            movedFrom: `${a}/eu-central-1/route53-hostedzones`,
          }),
          change('no-op', `${a}/eu-central-1/dns-zones/Zone`, 'AWS::Route53::HostedZone', {
            protected: true,
          }),
          change('create', `${a}/eu-central-1/app/Topic`, 'AWS::SNS::Topic', {
            properties: [prop('TopicName', null, 'events')],
          }),
          change('replace', `${a}/eu-central-1/app/Table`, 'AWS::DynamoDB::Table', {
            properties: [prop('TableName', 'orders', 'orders-v2', true)],
          }),
          change('update', `${a}/eu-central-1/app/Fn`, 'Custom::Thing', {
            mayReplace: true,
            properties: [prop('Size', 1, 2, 'unknown'), prop('Tags.team', 'a', 'b')],
          }),
          change('delete', `${a}/eu-central-1/app/Bucket`, 'AWS::S3::Bucket', {
            properties: [prop('BucketName', 'logs', null)],
          }),
        ],
        { name: 'payments-prod', team: 'payments', criticality: 'tier-1' },
      ),
      clusterPlan(c, [
        change('update', `${c}/kube-system/Deployment/coredns`, 'apps/v1/Deployment', {
          properties: [prop('spec.replicas', 2, 3)],
        }),
      ]),
    ],
    {
      totalTargets: 12,
      findings: [
        {
          rule: 'big-change',
          effect: 'warn',
          message: 'a lot changes\nat once',
          addresses: Array.from({ length: 12 }, (_, i) => `${a}/eu-central-1/app/Thing${i}`),
        },
        {
          rule: 'protected-destroy',
          effect: 'require-approval',
          message: 'a protected resource may be replaced',
          addresses: [`${a}/eu-central-1/app/Fn`],
        },
      ],
      approvalsRequired: [`${a}/eu-central-1/app/Fn`],
    },
  )
}

describe('renderPlanText', () => {
  test('renders like terraform: header, findings, approvals, changes by stack or namespace, summary', () => {
    expect(renderPlanText(mixedPlan(), { color: false })).toMatchInlineSnapshot(`
      "Flotilla plan: HEAD~1 (3f2a9c1) → HEAD (8b1d2e0)
      Verdict: requires approval (1 approval required)

      Findings:
        require-approval  protected-destroy: a protected resource may be replaced
            263820974194/eu-central-1/app/Fn
        warn  big-change: a lot changes
            at once
            263820974194/eu-central-1/app/Thing0
            263820974194/eu-central-1/app/Thing1
            263820974194/eu-central-1/app/Thing2
            263820974194/eu-central-1/app/Thing3
            263820974194/eu-central-1/app/Thing4
            263820974194/eu-central-1/app/Thing5
            263820974194/eu-central-1/app/Thing6
            263820974194/eu-central-1/app/Thing7
            263820974194/eu-central-1/app/Thing8
            263820974194/eu-central-1/app/Thing9
            … and 2 more

      Approvals required (1):
        263820974194/eu-central-1/app/Fn

      263820974194 payments-prod (account · production · tier-1 · team payments · stage prod)
        # eu-central-1/app
            - 263820974194/eu-central-1/app/Bucket  AWS::S3::Bucket
                BucketName: "logs" → null
            ~ 263820974194/eu-central-1/app/Fn  Custom::Thing  (may be replaced)
                Size: 1 → 2 (may force replacement)
                Tags.team: "a" → "b"
          -/+ 263820974194/eu-central-1/app/Table  AWS::DynamoDB::Table
                TableName: "orders" → "orders-v2" (forces replacement)
            + 263820974194/eu-central-1/app/Topic  AWS::SNS::Topic
                TopicName: null → "events"
        # eu-central-1/dns-zones
            → 263820974194/eu-central-1/dns-zones  AWS::CloudFormation::Stack  (moved from 263820974194/eu-central-1/route53-hostedzones)
              263820974194/eu-central-1/dns-zones/Zone  AWS::Route53::HostedZone  (protected, unchanged)

      eks:eu-central-1:main main (cluster · production · tier-2 · team teapot · stage prod)
        # kube-system
            ~ eks:eu-central-1:main/kube-system/Deployment/coredns  apps/v1/Deployment
                spec.replicas: 2 → 3

      Plan: 1 to create, 2 to update, 1 to replace, 1 to delete, 0 to move.
      Targets changed: 2 of 12; protected resources destroyed: 0; ops targets changed: 0.
      By stage: prod 2
      By environment: production 2
      By criticality: tier-1 1, tier-2 1
      By team: payments 1, teapot 1
      "
    `)
  })

  test('colours actions, headings and the verdict on a TTY, and nothing without colour', () => {
    const plain = renderPlanText(mixedPlan(), { color: false })
    const coloured = renderPlanText(mixedPlan(), { color: true })
    expect(plain).not.toContain(ESC)
    expect(coloured).toContain(`${ESC}[1mFlotilla plan: HEAD~1 (3f2a9c1) → HEAD (8b1d2e0)${ESC}[0m`)
    expect(coloured).toContain(`Verdict: ${ESC}[33mrequires approval${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[32m  + 263820974194/eu-central-1/app/Topic${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[33m  ~ 263820974194/eu-central-1/app/Fn${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[31m-/+ 263820974194/eu-central-1/app/Table${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[31m  - 263820974194/eu-central-1/app/Bucket${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[36m  → 263820974194/eu-central-1/dns-zones${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[31m (forces replacement)${ESC}[0m`)
    // Without the escape codes, the coloured text is the plain text.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI codes
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain)
  })

  test('targets with identical changes are shown once, with their ids', () => {
    const text = renderPlanText(hostedZoneRenamePlan(300), { color: false })
    expect(text.match(/HostedZone {2}AWS::Route53::HostedZone {2}\(protected\)/g)).toHaveLength(1 + 3)
    expect(text).toContain(
      '\n      - eu-central-1/route53-hostedzones/HostedZone  AWS::Route53::HostedZone  (protected)\n',
    )
    expect(text).toContain(
      '\n      - 100000000107/eu-central-1/route53-hostedzones/HostedZone  AWS::Route53::HostedZone  (protected)\n',
    )
    expect(text).toContain(
      'Same changes in 297 accounts (production 99, staging 99, test 99; stage prod 297):\n    100000000000 100000000001',
    )
    expect(text).toContain('100000000107 acct-107 (account · test · tier-2 · team team-11 · stage prod)')
    expect(text).toContain('Plan: 0 to create, 3 to update, 0 to replace, 300 to delete, 0 to move.')
    expect(text).toContain(
      'Targets changed: 300 of 550; protected resources destroyed: 300; ops targets changed: 0.',
    )
    expect(text).toContain('Verdict: denied (1 denying finding)')
  })

  test('a few identical targets are shown one by one, with their full addresses', () => {
    const text = renderPlanText(hostedZoneRenamePlan(3), { color: false })
    expect(text).not.toContain('Same changes')
    for (const id of ['100000000000', '100000000001', '100000000002']) {
      expect(text).toContain(
        `\n      - ${id}/eu-central-1/route53-hostedzones/HostedZone  AWS::Route53::HostedZone`,
      )
    }
  })

  test('a plan without changes says so', () => {
    expect(renderPlanText(planOf([]), { color: false })).toContain(
      '\n\nNo changes: head matches base.\n\nPlan: 0 to create',
    )
  })

  test('control characters from the repository cannot reach the terminal', () => {
    const plan = planOf([
      accountPlan('111111111111', [change('create', '111111111111/eu-central-1/app/Q', 'AWS::SQS::Queue')], {
        name: `evil${ESC}[2J`,
      }),
    ])
    const text = renderPlanText(plan, { color: false })
    expect(text).not.toContain(ESC)
    expect(text).toContain('evil\\u001b[2J')
  })
})

describe('helpers', () => {
  test('relativeAddress removes the target id, also from cluster ids with colons', () => {
    expect(relativeAddress('263820974194', '263820974194/eu-central-1/dns/Zone')).toBe(
      'eu-central-1/dns/Zone',
    )
    expect(relativeAddress('eks:eu:main', 'eks:eu:main/kube-system/Deployment/coredns')).toBe(
      'kube-system/Deployment/coredns',
    )
    expect(relativeAddress('other', 'eks:eu:main/_/Namespace/apps')).toBe('_/Namespace/apps')
  })

  test('stableJson ignores key order', () => {
    expect(stableJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      stableJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    )
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: '1' }))
  })

  test('wrapWords keeps lines within the width', () => {
    expect(wrapWords(['aaa', 'bbb', 'ccc', 'dddddddddd'], 7)).toEqual(['aaa bbb', 'ccc', 'dddddddddd'])
  })
})

describe('renderPlanText: cluster updates', () => {
  const pool = (cluster: string, nodes: string[]) => ({
    ...change('rotate', `${cluster}/_/NodePool/default-worker`, 'flotilla.dev/v1/NodePool', {
      properties: [prop('kubernetesVersion', '1.31', '1.32')],
    }),
    rotation: { count: nodes.length, nodes, stateful: true, overBudget: true },
  })

  test('a rotate names its nodes for one cluster, counts them for several, and says when it is skipped', () => {
    const one = renderPlanText(planOf([clusterPlan('kube-a', [pool('kube-a', ['w-1', 'w-2'])])]), {
      color: false,
    })
    expect(one).toContain(
      '  ⟳ kube-a/_/NodePool/default-worker  flotilla.dev/v1/NodePool  (rotates 2 nodes: w-1, w-2; stateful pool; over its monthly rotation budget: the rollout skips it)',
    )
    expect(one).toContain('kubernetesVersion: "1.31" → "1.32"')
    expect(one).toContain('0 to move, 1 to rotate.')
    const clusters = ['kube-a', 'kube-b', 'kube-c', 'kube-d']
    const many = renderPlanText(
      planOf(clusters.map((c, i) => clusterPlan(c, [pool(c, [`${c}-n${i}`, `${c}-m${i}`])]))),
      { color: false },
    )
    expect(many).toContain('Same changes in 4 clusters')
    expect(many).toContain('(rotates 2 nodes; stateful pool;')
    expect(many).not.toContain('kube-a-n0')
  })
})

describe('renderPlanText: multi-line strings diff by line', () => {
  const c = 'eks:eu-central-1:main'
  const COREFILE = [
    '.:53 {',
    '    errors',
    '    health {',
    '       lameduck 5s',
    '    }',
    '    ready',
    '    prometheus :9153',
    '    forward . /etc/resolv.conf',
    '    cache 30',
    '    loop',
    '    reload',
    '}',
    '',
  ].join('\n')
  const configMap = (...properties: ReturnType<typeof prop>[]) =>
    planOf([
      clusterPlan(c, [
        change('update', `${c}/kube-system/ConfigMap/coredns`, 'v1/ConfigMap', { properties }),
      ]),
    ])
  /** The lines printed for the properties of the plan's only change. */
  const propertyText = (plan: Plan) => {
    const lines = renderPlanText(plan, { color: false }).split('\n')
    const start = lines.findIndex((l) => l.includes('ConfigMap/coredns')) + 1
    const end = lines.indexOf('', start)
    return lines.slice(start, end).join('\n')
  }

  test('a Corefile edit is a unified hunk under the property path, with three lines of context', () => {
    const after = COREFILE.replace('/etc/resolv.conf', '10.0.0.2 10.0.0.3').replace(
      'cache 30',
      'cache 60\n    log',
    )
    expect(
      propertyText(configMap(prop('data.Corefile', COREFILE, after), prop('metadata.labels.v', '1', '2'))),
    ).toMatchInlineSnapshot(`
        "          data.Corefile: (+3 -2 lines)
                    @@ -5,8 +5,9 @@
                         }
                         ready
                         prometheus :9153
                    -    forward . /etc/resolv.conf
                    -    cache 30
                    +    forward . 10.0.0.2 10.0.0.3
                    +    cache 60
                    +    log
                         loop
                         reload
                     }
                  metadata.labels.v: "1" → "2""
      `)
  })

  test('a line added at the end, and a line removed in the middle', () => {
    expect(propertyText(configMap(prop('data.Corefile', COREFILE, `${COREFILE}# end\n`)))).toBe(
      [
        '          data.Corefile: (+1 line)',
        '            @@ -10,3 +10,4 @@',
        '                 loop',
        '                 reload',
        '             }',
        '            +# end',
      ].join('\n'),
    )
    expect(
      propertyText(configMap(prop('data.Corefile', COREFILE, COREFILE.replace('    ready\n', '')))),
    ).toBe(
      [
        '          data.Corefile: (-1 line)',
        '            @@ -3,7 +3,6 @@',
        '                 health {',
        '                    lameduck 5s',
        '                 }',
        '            -    ready',
        '                 prometheus :9153',
        '                 forward . /etc/resolv.conf',
        '                 cache 30',
      ].join('\n'),
    )
  })

  test('a change of the trailing newline, or of trailing spaces, only is still visible', () => {
    expect(propertyText(configMap(prop('data.Corefile', COREFILE, COREFILE.trimEnd())))).toContain(
      ['            -}', '            +}', '            \\ No newline at end of file'].join('\n'),
    )
    expect(
      propertyText(configMap(prop('data.Corefile', COREFILE, COREFILE.replace('ready', 'ready ')))),
    ).toContain(['            -    ready', '            +    ready·'].join('\n'))
  })

  test('a single-line string becoming multi-line, and a multi-line value created', () => {
    expect(propertyText(configMap(prop('data.hosts', '10.0.0.1 a', '10.0.0.1 a\n10.0.0.2 b\n')))).toBe(
      [
        '          data.hosts: (+2 -1 lines)',
        '            @@ -1 +1,2 @@',
        '            -10.0.0.1 a',
        '            \\ No newline at end of file',
        '            +10.0.0.1 a',
        '            +10.0.0.2 b',
      ].join('\n'),
    )
    expect(propertyText(configMap(prop('data.hosts', null, '10.0.0.1 a\n10.0.0.2 b\n')))).toBe(
      [
        '          data.hosts: (new, 2 lines)',
        '            @@ -0,0 +1,2 @@',
        '            +10.0.0.1 a',
        '            +10.0.0.2 b',
      ].join('\n'),
    )
    // An object created whole: its multi-line strings diffed by line, the rest as values.
    const created = planOf([
      clusterPlan(c, [
        change('create', `${c}/kube-system/ConfigMap/coredns`, 'v1/ConfigMap', {
          properties: [prop('data', null, { Corefile: 'a\nb\n', replicas: '2' })],
        }),
      ]),
    ])
    expect(propertyText(created)).toBe(
      [
        '          data.Corefile: (new, 2 lines)',
        '            @@ -0,0 +1,2 @@',
        '            +a',
        '            +b',
        '          data.replicas: null → "2"',
      ].join('\n'),
    )
  })

  test('a huge value is cut, with the number of lines left out', () => {
    const script = Array.from({ length: 1_000 }, (_, i) => `echo ${i}`).join('\n')
    const text = propertyText(configMap(prop('data["run.sh"]', null, script, true)))
    const lines = text.split('\n')
    expect(lines[0]).toBe('          data["run.sh"]: (new, 1000 lines) (forces replacement)')
    expect(lines).toHaveLength(1 + 200 + 1)
    expect(lines[200]).toBe('            +echo 198')
    expect(lines.at(-1)).toBe('            … 802 more lines of this diff')
  })

  test('coloured like git diff on a TTY; control characters in the lines never reach the terminal', () => {
    const plan = configMap(
      prop('data.Corefile', 'keep\nold\n', `keep\nnew ${ESC}[2J\n`),
      prop('data.gone', 'a\nb\n', null, true),
    )
    const coloured = renderPlanText(plan, { color: true })
    const plain = renderPlanText(plan, { color: false })
    expect(coloured).toContain(`${ESC}[33mdata.Corefile: (+1 -1 lines)${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[36m@@ -1,2 +1,2 @@${ESC}[0m`)
    expect(coloured).toContain(`\n             keep\n`)
    expect(coloured).toContain(`${ESC}[31m-old${ESC}[0m`)
    expect(coloured).toContain(`${ESC}[32m+new \\u001b[2J${ESC}[0m`)
    expect(coloured).toContain(
      `${ESC}[31mdata.gone: (removed, 2 lines)${ESC}[0m${ESC}[31m (forces replacement)`,
    )
    expect(plain).not.toContain(ESC)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI codes
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain)
  })

  test('identical multi-line changes in many targets are shown once', () => {
    const clusters = ['kube-a', 'kube-b', 'kube-c', 'kube-d', 'kube-e']
    const plan = planOf(
      clusters.map((id) =>
        clusterPlan(id, [
          change('update', `${id}/kube-system/ConfigMap/coredns`, 'v1/ConfigMap', {
            properties: [prop('data.Corefile', COREFILE, COREFILE.replace('cache 30', 'cache 60'))],
          }),
        ]),
      ),
    )
    const text = renderPlanText(plan, { color: false })
    expect(text).toContain('Same changes in 5 clusters')
    expect(text.match(/@@ -6,7 \+6,7 @@/g)).toHaveLength(1)
    expect(text.match(/\+ {4}cache 60/g)).toHaveLength(1)
  })
})
describe('renderPlanText: stage moves', () => {
  const moved = (n: number, extra: Change[] = []) =>
    accountPlan(accountId(n), extra, { stage: 'dev', stageMove: { from: 'stable', to: 'dev' } })

  test('a target that only moves to another stage is shown with its move, and the summary counts it', () => {
    const text = renderPlanText(
      planOf([moved(1), accountPlan(accountId(2), [bucketUpdate(2)], { stage: 'stable' })]),
      {
        color: false,
      },
    )
    expect(text).toContain(
      `${accountId(1)} account-0001 (account · production · tier-2 · team teapot · stage dev)\n  ~ stage: stable → dev  (only the stage changes)\n`,
    )
    expect(text).toContain(
      `${accountId(2)} account-0002 (account · production · tier-2 · team teapot · stage stable)\n  # `,
    )
    expect(text).toContain('\nStage moves: 1.\nBy stage: dev 1, stable 1\n')
    expect(text).not.toContain('No changes')
  })

  test('targets moving between stages are grouped apart from those that stay, with the move once', () => {
    const staying = [3, 4, 5, 6].map((n) => accountPlan(accountId(n), [bucketUpdate(n)], { stage: 'stable' }))
    const moving = [7, 8, 9, 10].map((n) => moved(n, [bucketUpdate(n)]))
    const text = renderPlanText(planOf([...staying, ...moving]), { color: false })
    expect(text).toContain('Same changes in 4 accounts (production 4; stage stable 4):')
    expect(text).toContain('Same changes in 4 accounts (production 4; stage dev 4):')
    expect(text.match(/~ stage: stable → dev\n/g)).toHaveLength(1)
    expect(text).toContain('Stage moves: 4.')
  })
})

function bucketUpdate(n: number): Change {
  return change('update', `${accountId(n)}/eu-central-1/logs/Bucket`, 'AWS::S3::Bucket', {
    properties: [prop('Tags.team', 'a', 'b')],
  })
}
