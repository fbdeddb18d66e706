import { describe, expect, it } from 'vitest'
import { loadValid } from '../../test/support/load-fleet-helpers.ts'
import { accountPlan, change, clusterPlan, planOf } from '../../test/support/plan-fixtures.ts'
import { scheduleRollout, waveEnds } from './schedule.ts'

// The fixture fleet (test/support/fixture-fleet.ts): 222222222222 is the dev account,
// 333333333333 the ops account, 111111111111 and its cluster are production (stable).
const DEV = '222222222222'
const OPS = '333333333333'
const PROD = '111111111111'
const CLUSTER = 'aws:111111111111:eu-central-1:kube-1'

const update = (target: string) => [change('update', `${target}/thing`, 'AWS::S3::Bucket')]

describe('waveEnds', () => {
  const production = [1, '10%', '50%', '100%'] as const

  it.each([
    [1, [1]],
    [7, [1, 2, 4, 7]],
    [10, [1, 2, 5, 10]],
    [300, [1, 30, 150, 300]],
  ])('splits %i targets into [1, 10%%, 50%%, 100%%] as %j', (count, ends) => {
    expect(waveEnds(production, count)).toEqual(ends)
  })

  it('takes everything in one wave without waves, and no wave without targets', () => {
    expect(waveEnds(undefined, 12)).toEqual([12])
    expect(waveEnds(undefined, 0)).toEqual([])
    expect(waveEnds(production, 0)).toEqual([])
  })

  it('adds a last wave with the rest to a list that stops short of everything', () => {
    expect(waveEnds([1, '10%'], 50)).toEqual([1, 5, 50])
    expect(waveEnds([2], 5)).toEqual([2, 5])
    expect(waveEnds(['50%'], 3)).toEqual([2, 3])
  })

  it('makes each wave at least one target, and stops at the last target', () => {
    // A wave no bigger than the one before still takes one more target …
    expect(waveEnds([5, 5, '100%'], 20)).toEqual([5, 6, 20])
    expect(waveEnds(['10%', '10%', '100%'], 100)).toEqual([10, 11, 100])
    // … until nothing is left: waves beyond the stage's size collapse into none.
    expect(waveEnds([5, 5, '100%'], 6)).toEqual([5, 6])
    expect(waveEnds([1, 1, 1, 1], 2)).toEqual([1, 2])
    expect(waveEnds([10, '100%'], 3)).toEqual([3])
    expect(waveEnds(['100%', '100%'], 4)).toEqual([4])
  })

  it('always gives growing ends that finish at the last target', () => {
    for (const waves of [production, [1, 1, '1%', '2%'], [3, '5%', '5%', '99%']] as const) {
      for (let count = 1; count <= 320; count++) {
        const ends = waveEnds(waves, count)
        expect(ends.at(-1), `${JSON.stringify(waves)} over ${count}`).toBe(count)
        expect(ends[0]).toBeGreaterThanOrEqual(1)
        for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThan(ends[i - 1]!)
        expect(ends.length).toBeLessThanOrEqual(waves.length + 1)
      }
    }
  })
})

describe('scheduleRollout', () => {
  const rollout = `defaults: { maxParallel: 3, failureTolerance: 2, bake: 10m, onFailure: halt }
stages:
  - name: dev
    select: target.channel == 'dev'
  - name: ops
    select: target.group == 'ops'
    maxParallel: 1
    failureTolerance: 0
    bake: 30s
    onFailure: rollback
    approval: required
    gates: [healthy]
  - name: stable
    select: target.channel == 'stable'
    waves: [1, 50%, 100%]
    approval: none
    gates: [healthy]
gates:
  healthy: { type: health }
`

  it('schedules only the changed targets, stage by stage in rollout.yaml order', () => {
    const { fleet } = loadValid({ 'rollout.yaml': rollout })
    const plan = planOf([accountPlan(PROD, update(PROD)), accountPlan(DEV, update(DEV))])
    const schedule = scheduleRollout(fleet, plan)
    // ops has nothing to change: it is not in the schedule at all; the cluster did not change.
    expect(schedule.stages.map((s) => [s.name, s.waves])).toEqual([
      ['dev', [[DEV]]],
      ['stable', [[PROD]]],
    ])
  })

  it('splits a stage into its waves in inventory order, ops apart from production', () => {
    const { fleet } = loadValid({ 'rollout.yaml': rollout })
    const plan = planOf([
      clusterPlan(CLUSTER, update(CLUSTER)),
      accountPlan(OPS, update(OPS)),
      accountPlan(PROD, update(PROD)),
    ])
    // The ops account is on the stable channel too; the first stage that selects it has it.
    expect(scheduleRollout(fleet, plan).stages.map((s) => [s.name, s.waves])).toEqual([
      ['ops', [[OPS]]],
      ['stable', [[PROD], [CLUSTER]]],
    ])
  })

  it("takes each stage's settings, and the defaults where it has none", () => {
    const { fleet } = loadValid({ 'rollout.yaml': rollout })
    const plan = planOf([accountPlan(DEV, update(DEV)), accountPlan(OPS, update(OPS))])
    const [dev, ops] = scheduleRollout(fleet, plan).stages
    expect(dev).toEqual({
      name: 'dev',
      maxParallel: 3,
      failureTolerance: 2,
      bakeMs: 600_000,
      onFailure: 'halt',
      approval: false,
      gates: [],
      waves: [[DEV]],
    })
    expect(ops).toEqual({
      name: 'ops',
      maxParallel: 1,
      failureTolerance: 0,
      bakeMs: 30_000,
      onFailure: 'rollback',
      approval: true,
      gates: ['healthy'],
      waves: [[OPS]],
    })
  })

  it('uses the built-in defaults without a defaults section', () => {
    const { fleet } = loadValid()
    const plan = planOf([accountPlan(DEV, update(DEV))])
    expect(scheduleRollout(fleet, plan).stages).toEqual([
      {
        name: 'dev',
        maxParallel: 1,
        failureTolerance: 0,
        bakeMs: 0,
        onFailure: 'rollback',
        approval: false,
        gates: [],
        waves: [[DEV]],
      },
    ])
  })

  it('schedules nothing for a plan without changes', () => {
    const { fleet } = loadValid()
    expect(scheduleRollout(fleet, planOf([]))).toEqual({ stages: [] })
  })
})

describe('scheduleRollout under a trusted revision', () => {
  const trustedRollout = `defaults: { maxParallel: 2, failureTolerance: 0, bake: 5m, onFailure: rollback }
stages:
  - name: dev
    select: target.channel == 'dev'
  - name: ops
    select: target.group == 'ops'
  - name: stable
    select: target.channel == 'stable'
    approval: required
    gates: [healthy, smoke]
gates:
  healthy: { type: health }
  smoke: { type: health, timeout: 2m }
`
  const trustedOf = (files: Record<string, string>) => {
    const { fleet } = loadValid(files)
    return { ...fleet, source: { kind: 'revision' as const, ref: 'main', commit: 'a'.repeat(40) } }
  }
  const plan = planOf([accountPlan(PROD, update(PROD)), accountPlan(DEV, update(DEV))])

  it('keeps the approval, gates, bake and tolerance the change removes from its own stage', () => {
    const weakened = `defaults: { maxParallel: 10, failureTolerance: 5, bake: 0s, onFailure: halt }
stages:
  - name: dev
    select: target.channel == 'dev'
  - name: ops
    select: target.group == 'ops'
  - name: stable
    select: target.channel == 'stable'
gates:
  healthy: { type: health }
`
    const { fleet } = loadValid({ 'rollout.yaml': weakened })
    const [, stable] = scheduleRollout(fleet, plan, trustedOf({ 'rollout.yaml': trustedRollout })).stages
    expect(stable).toMatchObject({
      name: 'stable',
      approval: true,
      maxParallel: 2,
      failureTolerance: 0,
      bakeMs: 5 * 60_000,
      onFailure: 'rollback',
      // healthy is defined the same way in both: run once; smoke only the trusted revision defines.
      gates: ['healthy', 'smoke@trusted'],
      gateSources: { 'smoke@trusted': 'a'.repeat(40) },
    })
  })

  it('moving a production target into an earlier stage keeps the requirements of its trusted stage', () => {
    // The change selects production into dev, which requires nothing.
    const rerouted = `defaults: { maxParallel: 1 }
stages:
  - name: ops
    select: target.group == 'ops'
  - name: dev
    select: target.channel == 'dev' || target.environment == 'production'
  - name: stable
    select: target.channel == 'stable'
gates:
  healthy: { type: health }
`
    const { fleet } = loadValid({ 'rollout.yaml': rerouted })
    const [dev] = scheduleRollout(fleet, plan, trustedOf({ 'rollout.yaml': trustedRollout })).stages
    expect(dev?.waves.flat()).toContain(PROD)
    expect(dev).toMatchObject({ name: 'dev', approval: true, gates: ['healthy', 'smoke@trusted'] })
  })

  it('runs a gate the change redefines both ways: its own, and the trusted definition', () => {
    const redefined = trustedRollout.replace(
      'healthy: { type: health }',
      'healthy: { type: health, timeout: 1s }',
    )
    const { fleet } = loadValid({ 'rollout.yaml': redefined })
    const [, stable] = scheduleRollout(fleet, plan, trustedOf({ 'rollout.yaml': trustedRollout })).stages
    expect(stable?.gates).toEqual(['healthy', 'smoke', 'healthy@trusted'])
  })

  it('changes nothing when the trusted revision says the same', () => {
    const { fleet } = loadValid({ 'rollout.yaml': trustedRollout })
    const alone = scheduleRollout(fleet, plan)
    expect(scheduleRollout(fleet, plan, trustedOf({ 'rollout.yaml': trustedRollout }))).toEqual(alone)
  })
})
