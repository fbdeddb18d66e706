import { describe, expect, test } from 'vitest'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const ROLLOUT = 'rollout.yaml'
const ACCOUNTS = 'inventory/accounts.yaml'
const CLUSTER_ID = 'aws:111111111111:eu-central-1:kube-1'

/** A rollout.yaml with the given stages (name → select), no gates. */
function rollout(stages: Record<string, string>): Record<string, string> {
  const list = Object.entries(stages)
    .map(([name, select]) => `  - name: ${name}\n    select: ${JSON.stringify(select)}\n`)
    .join('')
  return { [ROLLOUT]: `stages:\n${list}` }
}

describe('assignStages', () => {
  test('every target belongs to the first stage that selects it', () => {
    const { fleet } = loadValid()
    expect(Object.fromEntries(fleet.stageOf)).toEqual({
      '111111111111': 'stable',
      '222222222222': 'dev',
      '333333333333': 'ops',
      [CLUSTER_ID]: 'stable',
    })
    const everything = loadValid(
      rollout({ ops: "target.group == 'ops'", all: 'true', never: "target.id == '111111111111'" }),
    )
    expect(Object.fromEntries(everything.fleet.stageOf)).toEqual({
      '111111111111': 'all',
      '222222222222': 'all',
      '333333333333': 'ops',
      [CLUSTER_ID]: 'all',
    })
    expect(everything.warnings).toEqual([
      'rollout.yaml:7:13: warning: stage "never" selects no targets (earlier stages may take them all)',
    ])
  })

  test('an account that no stage selects is an error at the account', () => {
    expect(errorsFor(edit(ROLLOUT, "  - name: dev\n    select: target.channel == 'dev'\n", ''))).toEqual([
      'inventory/accounts.yaml:10:3: account "222222222222" (teapot-test) is selected by no rollout stage; add a stage in rollout.yaml whose select matches it',
    ])
  })

  test('a cluster that no stage selects is an error at the cluster', () => {
    expect(
      errorsFor(
        rollout({
          dev: "target.channel == 'dev'",
          ops: "target.group == 'ops'",
          accounts: "target.kind == 'account'",
        }),
      ),
    ).toEqual([
      `inventory/clusters.yaml:1:3: cluster "${CLUSTER_ID}" (teapot-kube-1) is selected by no rollout stage; add a stage in rollout.yaml whose select matches it`,
    ])
  })

  test('decommissioned targets need no stage; those still being decommissioned do', () => {
    const stages = edit(ROLLOUT, "  - name: dev\n    select: target.channel == 'dev'\n", '')
    const decommissioned = edit(ACCOUNTS, 'channel: dev\n', 'channel: dev\n  lifecycle: decommissioned\n')
    const { fleet } = loadValid({ ...stages, ...decommissioned })
    expect(fleet.stageOf.has('222222222222')).toBe(false)
    const requested = edit(ACCOUNTS, 'channel: dev\n', 'channel: dev\n  lifecycle: decommission-requested\n')
    expect(errorsFor({ ...stages, ...requested })).toEqual([
      expect.stringMatching(
        /^inventory\/accounts\.yaml:10:3: account "222222222222" \(teapot-test\) is selected by no rollout stage/,
      ),
    ])
  })

  test('ops-segregation: a stage selecting ops targets together with production targets', () => {
    expect(
      errorsFor(
        edit(ROLLOUT, "  - name: ops\n    select: target.group == 'ops'\n    gates: [healthy]\n", ''),
      ),
    ).toEqual([
      `rollout.yaml:6:13: stage "stable" selects ops targets (1: 333333333333) together with production targets (2: 111111111111, ${CLUSTER_ID}); give group == 'ops' a stage of its own, so monitoring and ops tooling never change together with production`,
    ])
  })

  test('ops-segregation looks at the targets a stage actually gets, not at its selector text', () => {
    // `all` would select everything, but the ops account was taken by the stage before it.
    loadValid(rollout({ ops: "target.group == 'ops'", all: 'true' }))
    // Ops targets may share a stage with non-production targets.
    const { fleet } = loadValid(
      rollout({ 'ops-and-test': "target.group == 'ops' || target.environment == 'test'", rest: 'true' }),
    )
    expect(fleet.stageOf.get('333333333333')).toBe('ops-and-test')
    expect(fleet.stageOf.get('222222222222')).toBe('ops-and-test')
  })

  test('ops-segregation counts production clusters too', () => {
    const stages = rollout({
      accounts: "target.kind == 'account' && target.group != 'ops'",
      mixed: 'true',
    })
    expect(errorsFor(stages)).toEqual([
      `rollout.yaml:5:13: stage "mixed" selects ops targets (1: 333333333333) together with production targets (1: ${CLUSTER_ID}); give group == 'ops' a stage of its own, so monitoring and ops tooling never change together with production`,
    ])
  })

  test('a selector that fails for some targets is reported once, with the number of targets', () => {
    const stages = rollout({
      flagged: "target.config.dns_domain.endsWith('ops.example.org')",
      rest: 'true',
    })
    // Only accounts have dns_domain; the cluster's config has no such key.
    expect(errorsFor(stages)).toEqual([
      `rollout.yaml:3:13: CEL evaluation error: No such key: dns_domain (for target ${CLUSTER_ID})`,
    ])
    const byFlag = rollout({
      ops: "target.group == 'ops'",
      flagged: 'target.config.autoscaling_enabled == true',
      rest: 'true',
    })
    expect(errorsFor(byFlag)).toEqual([
      'rollout.yaml:5:13: CEL evaluation error: No such key: autoscaling_enabled (for 2 targets: 111111111111, 222222222222)',
    ])
  })
})
