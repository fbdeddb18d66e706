import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const ACCOUNTS = 'inventory/accounts.yaml'
const CLUSTERS = 'inventory/clusters.yaml'
const TEAMS = 'inventory/teams.yaml'
const CLUSTER_ID = 'aws:111111111111:eu-central-1:kube-1'

describe('inventory: schema', () => {
  test('an unknown key is reported at the key, with the closest valid key', () => {
    expect(errorsFor(edit(ACCOUNTS, '  team: sre\n', '  team: sre\n  descripton: x\n'))).toEqual([
      'inventory/accounts.yaml:21:3: unknown key "descripton"; did you mean "description"?',
    ])
  })

  test('an unknown key with no close match lists the valid keys', () => {
    expect(errorsFor(edit(TEAMS, '  name: SRE\n', '  name: SRE\n  pager: x\n'))).toEqual([
      'inventory/teams.yaml:7:3: unknown key "pager" (valid keys: id, name, description, costCenter, members)',
    ])
  })

  test('a missing required key is reported at its entry, with the values it may take', () => {
    expect(errorsFor(edit(ACCOUNTS, '  criticality: tier-3\n', ''))).toEqual([
      'inventory/accounts.yaml:10:3: missing required key "criticality" (one of tier-1, tier-2, tier-3)',
    ])
    expect(errorsFor(edit(TEAMS, '  name: SRE\n', ''))).toEqual([
      'inventory/teams.yaml:5:3: missing required key "name"',
    ])
  })

  test('a misspelt required key is one error: unknown, with the key it should be', () => {
    expect(errorsFor(edit(ACCOUNTS, '  channel: dev\n', '  chanel: dev\n'))).toEqual([
      'inventory/accounts.yaml:15:3: unknown key "chanel"; did you mean "channel"?',
    ])
  })

  test('a missing key next to an unrelated unknown key is still reported', () => {
    expect(errorsFor(edit(ACCOUNTS, '  channel: dev\n', '  colour: dev\n'))).toEqual([
      'inventory/accounts.yaml:10:3: missing required key "channel" (one of dev, alpha, beta, stable)',
      expect.stringContaining('inventory/accounts.yaml:15:3: unknown key "colour" (valid keys: id, name,'),
    ])
  })

  test('a wrong type is reported at the value', () => {
    expect(
      errorsFor(
        edit(
          ACCOUNTS,
          'regions: [eu-central-1]\n  config: { dns_domain: teapot-test',
          'regions: eu-central-1\n  config: { dns_domain: teapot-test',
        ),
      ),
    ).toEqual(['inventory/accounts.yaml:16:12: "regions" must be a list, not the string "eu-central-1"'])
  })

  test('a number where a string is expected suggests quoting it', () => {
    expect(errorsFor(edit(ACCOUNTS, 'id: "222222222222"', 'id: 222222222222'))).toEqual([
      'inventory/accounts.yaml:10:7: "id" must be a string, not the number 222222222222; quote it: "222222222222"',
    ])
    expect(errorsFor(edit(CLUSTERS, 'kubernetesVersion: "1.31"', 'kubernetesVersion: 1.31'))).toEqual([
      'inventory/clusters.yaml:8:22: "kubernetesVersion" must be a string, not the number 1.31; quote it: "1.31"',
    ])
  })

  test('the quoting hint keeps the value as written, not as YAML read it', () => {
    expect(errorsFor(edit(CLUSTERS, 'kubernetesVersion: "1.31"', 'kubernetesVersion: 1.30'))).toEqual([
      'inventory/clusters.yaml:8:22: "kubernetesVersion" must be a string, not the number 1.3; quote it: "1.30"',
    ])
    expect(errorsFor(edit(ACCOUNTS, 'id: "222222222222"', 'id: 022222222222'))).toEqual([
      'inventory/accounts.yaml:10:7: "id" must be a string, not the number 22222222222; quote it: "022222222222"',
    ])
  })

  test('an invalid enum value lists the valid ones and suggests the closest', () => {
    expect(errorsFor(edit(ACCOUNTS, 'channel: dev', 'channel: deb'))).toEqual([
      'inventory/accounts.yaml:15:12: invalid value "deb" for "channel": expected one of dev, alpha, beta, stable; did you mean "dev"?',
    ])
    expect(errorsFor(edit(ACCOUNTS, 'environment: test', 'environment: qa'))).toEqual([
      'inventory/accounts.yaml:13:16: invalid value "qa" for "environment": expected one of production, staging, test',
    ])
  })

  test('a value that breaks a format rule is reported with the rule', () => {
    expect(
      errorsFor(
        edit(
          ACCOUNTS,
          'regions: [eu-central-1]\n  config: { dns_domain: teapot-test',
          'regions: [eu-central]\n  config: { dns_domain: teapot-test',
        ),
      ),
    ).toEqual([
      'inventory/accounts.yaml:16:13: invalid "regions" "eu-central": expected a region such as eu-central-1',
    ])
  })

  test('a node pool whose max is below its min is reported at max', () => {
    expect(errorsFor(edit(CLUSTERS, 'min: 3, max: 20', 'min: 3, max: 2'))).toEqual([
      'inventory/clusters.yaml:10:89: invalid "max": max must be at least min',
    ])
  })

  test('an inventory file must be a list', () => {
    expect(errorsFor({ [TEAMS]: 'id: teapot\nname: Team Teapot\n' })).toEqual([
      'inventory/teams.yaml:1:1: this value must be a list, not a mapping',
    ])
  })
})

describe('inventory: references', () => {
  test('an account naming an unknown team', () => {
    expect(errorsFor(edit(ACCOUNTS, 'team: sre', 'team: sra'))).toEqual([
      'inventory/accounts.yaml:18:3: account "333333333333" names team "sra", which is not in inventory/teams.yaml; did you mean "sre"?',
    ])
  })

  test('a cluster naming an unknown account', () => {
    expect(errorsFor(edit(CLUSTERS, 'account: "111111111111"', 'account: "111111111112"'))).toEqual([
      `inventory/clusters.yaml:1:3: cluster "${CLUSTER_ID}" names account "111111111112", which is not in the inventory; did you mean "111111111111"?`,
    ])
  })

  test('a cluster naming an unknown team', () => {
    expect(errorsFor(edit(CLUSTERS, '  region:', '  team: teepot\n  region:'))).toEqual([
      `inventory/clusters.yaml:1:3: cluster "${CLUSTER_ID}" names team "teepot", which is not in inventory/teams.yaml; did you mean "teapot"?`,
    ])
  })

  test('a cluster in a region its account does not use', () => {
    expect(errorsFor(edit(CLUSTERS, 'region: eu-central-1', 'region: us-east-1'))).toEqual([
      `inventory/clusters.yaml:1:3: cluster "${CLUSTER_ID}" is in region us-east-1, which is not one of account 111111111111's regions (eu-central-1, eu-west-1); add the region to the account or fix the cluster's region`,
    ])
  })

  test('a reference to an entry that is itself invalid is not reported twice', () => {
    // Account 111111111111 is invalid (bad environment); its cluster is not "dangling" because of it.
    expect(
      errorsFor(
        edit(
          ACCOUNTS,
          'environment: production\n  criticality: tier-1\n  channel: stable\n  regions: [eu-central-1, eu-west-1]',
          'environment: prod\n  criticality: tier-1\n  channel: stable\n  regions: [eu-central-1, eu-west-1]',
        ),
      ),
    ).toEqual([
      'inventory/accounts.yaml:4:16: invalid value "prod" for "environment": expected one of production, staging, test',
    ])
  })

  test('references into a file that could not be read are not reported as broken', () => {
    expect(errorsFor({ [TEAMS]: '- id: teapot\n  name: [Team\n' })).toEqual([
      'inventory/teams.yaml:3:1: malformed YAML: Flow sequence in block collection must be sufficiently indented and end with a ]; fix the syntax (nothing in this file was loaded)',
    ])
    expect(errorsFor({ [TEAMS]: '' })).toEqual(['inventory/teams.yaml:1:1: inventory/teams.yaml is empty'])
    expect(errorsFor({ [TEAMS]: 'teapot: { name: Team Teapot }\n' })).toEqual([
      'inventory/teams.yaml:1:1: this value must be a list, not a mapping',
    ])
    expect(
      errorsFor(
        edit(
          ACCOUNTS,
          '  channel: stable\n  regions: [eu-central-1]\n',
          '  channel: stable\n  channel: stable\n  regions: [eu-central-1]\n',
        ),
      ),
    ).toEqual([
      'inventory/accounts.yaml:25:3: duplicate key "channel" (first at line 24); YAML would silently keep only one — remove or rename one of them',
    ])
  })
})

describe('inventory: duplicates', () => {
  test('a duplicate account id points back at the first', () => {
    expect(errorsFor(edit(ACCOUNTS, '"222222222222"', '"111111111111"'))).toEqual([
      'inventory/accounts.yaml:10:3: duplicate account id "111111111111" (first defined at inventory/accounts.yaml:1:3); each account id must be unique across the fleet',
    ])
  })

  test('a duplicate account name', () => {
    expect(errorsFor(edit(ACCOUNTS, 'name: teapot-test', 'name: teapot-prod'))).toEqual([
      'inventory/accounts.yaml:10:3: duplicate account name "teapot-prod" (first defined at inventory/accounts.yaml:1:3); each account name must be unique across the fleet',
    ])
  })

  test('a duplicate team id', () => {
    const teams = `${BASE_FILES[TEAMS]}- id: sre\n  name: SRE again\n`
    expect(errorsFor({ [TEAMS]: teams })).toEqual([
      'inventory/teams.yaml:8:3: duplicate team id "sre" (first defined at inventory/teams.yaml:5:3); each team id must be unique across the fleet',
    ])
  })

  test('a duplicate cluster id and a duplicate alias', () => {
    const second = BASE_FILES[CLUSTERS]!.replace('alias: teapot-kube-1', 'alias: teapot-kube-2')
    expect(errorsFor({ [CLUSTERS]: `${BASE_FILES[CLUSTERS]}${second}` })).toEqual([
      `inventory/clusters.yaml:12:3: duplicate cluster id "${CLUSTER_ID}" (first defined at inventory/clusters.yaml:1:3); each cluster id must be unique across the fleet`,
    ])
    const sameAlias = BASE_FILES[CLUSTERS]!.replace('kube-1\n', 'kube-2\n')
    expect(errorsFor({ [CLUSTERS]: `${BASE_FILES[CLUSTERS]}${sameAlias}` })).toEqual([
      'inventory/clusters.yaml:12:3: duplicate cluster alias "teapot-kube-1" (first defined at inventory/clusters.yaml:1:3); each cluster alias must be unique across the fleet',
    ])
  })

  test('ids are unique across split files too', () => {
    const extra = `- id: "111111111111"\n  name: other\n  team: sre\n  environment: test\n  criticality: tier-3\n  channel: dev\n  regions: [eu-central-1]\n`
    expect(errorsFor({ 'inventory/accounts/extra.yaml': extra })).toEqual([
      'inventory/accounts/extra.yaml:1:3: duplicate account id "111111111111" (first defined at inventory/accounts.yaml:1:3); each account id must be unique across the fleet',
    ])
  })
})

describe('inventory: loaded values', () => {
  test('accounts may be split over inventory/accounts/*.yaml', () => {
    const extra = `- id: "444444444444"\n  name: extra\n  team: sre\n  environment: test\n  criticality: tier-3\n  channel: dev\n  regions: [eu-central-1]\n`
    const { fleet } = loadValid({ 'inventory/accounts/extra.yaml': extra })
    expect([...fleet.accounts.keys()].sort()).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
      '444444444444',
    ])
    expect(fleet.accounts.get('444444444444')!.at).toEqual({
      file: 'inventory/accounts/extra.yaml',
      line: 1,
      col: 3,
    })
  })

  test('defaults are applied: group from team, cost center from team, lifecycle active, provider from fleet', () => {
    const { fleet } = loadValid()
    const account = fleet.accounts.get('111111111111')!
    expect(account.group).toBe('teapot')
    expect(account.costCenter).toBe('0001')
    expect(account.lifecycle).toBe('active')
    expect(account.provider).toBe('sim')
    expect(fleet.accounts.get('333333333333')!.group).toBe('ops')
  })

  test('a cluster inherits team, group and tags from its account unless set', () => {
    const inherited = loadValid().fleet.clusters.get(CLUSTER_ID)!
    expect([inherited.team, inherited.group, inherited.tags]).toEqual([
      'teapot',
      'teapot',
      { owner: 'teapot' },
    ])
    const own = loadValid(
      edit(CLUSTERS, '  region:', '  team: sre\n  group: platform\n  tags: { owner: sre }\n  region:'),
    ).fleet.clusters.get(CLUSTER_ID)!
    expect([own.team, own.group, own.tags]).toEqual(['sre', 'platform', { owner: 'sre' }])
  })

  test('targets are accounts then clusters, each sorted by id, whatever the file order', () => {
    const reversed = `${BASE_FILES[ACCOUNTS]!.split('- id:')
      .slice(1)
      .reverse()
      .map((e) => `- id:${e}`)
      .join('')}`
    const { fleet } = loadValid({ [ACCOUNTS]: reversed })
    expect(fleet.targets.map((t) => `${t.kind}:${t.id}`)).toEqual([
      'account:111111111111',
      'account:222222222222',
      'account:333333333333',
      `cluster:${CLUSTER_ID}`,
    ])
  })

  test("a cluster's config merges defaults < environments[env] < channels[channel] < its own config", () => {
    const defaults = [
      'defaults: { a: default, b: default, c: default, d: default, replicas: 1 }',
      'environments:',
      '  production: { b: environment, c: environment, d: environment }',
      '  test: { b: wrong-environment }',
      'channels:',
      '  stable: { c: channel, d: channel }',
      '  dev: { c: wrong-channel }',
      '',
    ].join('\n')
    const { fleet } = loadValid({
      'cluster/config-defaults.yaml': defaults,
      ...edit(CLUSTERS, 'config: { autoscaling_enabled: true }', 'config: { d: cluster }'),
    })
    const cluster = fleet.targets.find((t) => t.id === CLUSTER_ID)!
    expect(cluster.config).toEqual({
      a: 'default',
      b: 'environment',
      c: 'channel',
      d: 'cluster',
      replicas: 1,
    })
    // Accounts do not take cluster config defaults.
    expect(fleet.targets.find((t) => t.id === '111111111111')!.config).toEqual({
      dns_domain: 'teapot.example.org',
      replicas: 2,
    })
  })
})

describe('inventory: one cost center per account', () => {
  const tagged = (tags: string, costCenter = '') =>
    edit(ACCOUNTS, '  tags: { owner: teapot }\n', `  tags: ${tags}\n${costCenter}`)

  test("a cost-center tag that agrees with the account's cost center (its own, or its team's) is valid", () => {
    loadValid(tagged('{ owner: teapot, cost-center: "0001" }')) // the team's
    loadValid(tagged('{ owner: teapot, cost-center: "0009" }', '  costCenter: "0009"\n'))
  })

  test('a cost-center tag that disagrees is an error naming both values and where each comes from', () => {
    expect(errorsFor(tagged('{ owner: teapot, cost-center: "0002" }'))).toEqual([
      expect.stringMatching(
        /^inventory\/accounts\.yaml:1:\d+: account "teapot-prod" has tag cost-center "0002" but cost center "0001" \(the costCenter of its team teapot\); make them agree/,
      ),
    ])
    // The same tag spelt another way is the same fact.
    for (const key of ['CostCenter', 'cost_center', 'Cost-Center'])
      expect(errorsFor(tagged(`{ owner: teapot, ${key}: "0002" }`))).toEqual([
        expect.stringContaining(`has tag ${key} "0002" but cost center "0001"`),
      ])
    loadValid(tagged('{ owner: teapot, CostCenter: "0001" }'))
    expect(errorsFor(tagged('{ owner: teapot, cost-center: "0001" }', '  costCenter: "0009"\n'))).toEqual([
      expect.stringMatching(/has tag cost-center "0001" but cost center "0009" \(its costCenter\)/),
    ])
  })
})
