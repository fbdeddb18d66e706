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
import type { Change, Plan } from './plan-model.ts'
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
