import { describe, expect, test } from 'vitest'
import { BASE_FILES, fixtureSource } from '../../../../test/support/fixture-fleet.ts'
import { formatDiagnostic } from '../../diagnostics.ts'
import { loadFleet } from '../../load/load-fleet.ts'
import type { Fleet } from '../../model/fleet-model.ts'
import type { Plan } from '../../model/plan.ts'
import { fleetState, planFleet } from '../../plan/plan-fleet.ts'
import { type Approval, parseApproval } from '../approvals.ts'
import { stageApprovalAddress, stageMoveAddress } from './stage-move.ts'

type Files = Readonly<Record<string, string>>

const ACCOUNTS = 'inventory/accounts.yaml'
const ROLLOUT = 'rollout.yaml'
const PROD = '111111111111'
const TEST = '222222222222'
const OPS = '333333333333'
const CLUSTER = 'aws:111111111111:eu-central-1:kube-1'

/** The fixture's files with each `[path, from, to]` edit applied (each `from` must occur once). */
function files(...edits: readonly (readonly [string, string, string])[]): Files {
  const out: Record<string, string> = { ...BASE_FILES }
  for (const [path, from, to] of edits) {
    const text = out[path]!
    expect(text.split(from).length - 1, `${JSON.stringify(from)} in ${path}`).toBe(1)
    out[path] = text.replace(from, to)
  }
  return out
}

/** A rollout.yaml with these stages (`name: select`, `approval` after a `!`) and the fixture's gate. */
function rollout(...stages: readonly string[]): readonly [string, string, string] {
  const body = stages
    .map((stage) => {
      const [name, rest] = stage.split(': ', 2) as [string, string]
      const approval = rest.endsWith(' !')
      const select = approval ? rest.slice(0, -2) : rest
      return `  - name: ${name}\n    select: ${JSON.stringify(select)}\n${approval ? '    approval: required\n' : ''}`
    })
    .join('')
  return [ROLLOUT, BASE_FILES[ROLLOUT]!, `stages:\n${body}gates:\n  healthy: { type: health }\n`]
}

/** The fixture's stages, with `approval: required` on stable. */
const APPROVED_STABLE = rollout(
  "dev: target.channel == 'dev'",
  "ops: target.group == 'ops'",
  "stable: target.channel == 'stable' !",
)

function fleet(files: Files): Fleet {
  const result = loadFleet(fixtureSource(files))
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.fleet
}

function plan(base: Files, head: Files, approvals: readonly Approval[] = []): Plan {
  const b = fleet(base)
  const h = fleet(head)
  const outcome = planFleet({
    base: fleetState(b),
    head: fleetState(h),
    limits: h.settings.limits,
    protect: h.settings.protect,
    approvals,
  })
  if (!outcome.ok) expect.fail(outcome.errors.map(formatDiagnostic).join('\n'))
  return outcome.plan
}

function moves(p: Plan): Record<string, string> {
  return Object.fromEntries(
    p.targets.filter((t) => t.stageMove).map((t) => [t.id, `${t.stageMove!.from} → ${t.stageMove!.to}`]),
  )
}

function stageFindings(p: Plan) {
  return p.findings.filter((f) => f.rule === 'stage-move')
}

const channel = (id: string, from: string, to: string) =>
  [ACCOUNTS, `- id: "${id}"\n${accountBody(id, from)}`, `- id: "${id}"\n${accountBody(id, to)}`] as const

/** The lines of an account entry up to and including its channel. */
function accountBody(id: string, channelValue: string): string {
  const entry = BASE_FILES[ACCOUNTS]!.split(`- id: "${id}"\n`)[1]!
  const upToChannel = entry.slice(0, entry.indexOf('  channel: '))
  return `${upToChannel}  channel: ${channelValue}\n`
}

describe('stage-move', () => {
  test('a production account moved from stable to dev by its channel is a stage move needing an approval of <id>/_stage', () => {
    const p = plan(files(APPROVED_STABLE), files(APPROVED_STABLE, channel(PROD, 'stable', 'dev')))
    expect(moves(p)).toEqual({ [PROD]: 'stable → dev' })
    // Nothing the account renders depends on its channel: it is in the plan for the move alone.
    expect(p.targets.find((t) => t.id === PROD)).toMatchObject({ stage: 'dev', changes: [] })
    const [finding, ...rest] = stageFindings(p)
    expect(rest).toEqual([])
    expect(finding).toMatchObject({ effect: 'require-approval', addresses: [stageMoveAddress(PROD)] })
    expect(finding!.message).toBe(
      `1 production target would move from stage "stable" to stage "dev" (${PROD}): "dev" comes before "stable" in the base revision's rollout order (dev → ops → stable), so changes would reach production there before the stages that test them; and stage "stable" needs a person's approval before it starts (approval: required) and "dev" does not. Approve each move (<target>/_stage), or keep what puts it in "stable" (channel, environment, group, or the stage selectors of rollout.yaml)`,
    )
    expect(p.verdict).toBe('requires-approval')
    expect(p.approvalsRequired).toEqual([`${PROD}/_stage`])
    expect(p.summary).toMatchObject({ targetsChanged: 1, stageMoves: 1, byStage: { dev: 1 } })

    const approved = plan(files(APPROVED_STABLE), files(APPROVED_STABLE, channel(PROD, 'stable', 'dev')), [
      parseApproval(`${PROD}/_stage`),
    ])
    expect(approved.verdict).toBe('allowed')
  })

  test('an earlier move of a production target needs the approval even when no stage requires one', () => {
    const p = plan({}, files(channel(PROD, 'stable', 'dev')))
    expect(moves(p)).toEqual({ [PROD]: 'stable → dev' })
    expect(stageFindings(p).map((f) => [f.effect, f.addresses])).toEqual([
      ['require-approval', [`${PROD}/_stage`]],
    ])
    expect(stageFindings(p)[0]!.message).not.toContain('approval: required')
  })

  test('environment production → staging moves the account out of the approval stage: an approval, though the move is later', () => {
    const stages = rollout(
      "dev: target.channel == 'dev'",
      "ops: target.group == 'ops'",
      "production: target.environment == 'production' !",
      'rest: true',
    )
    const p = plan(
      files(stages),
      files(stages, [
        ACCOUNTS,
        '  environment: production\n  criticality: tier-1\n  channel: stable\n  regions: [eu-central-1, eu-west-1]',
        '  environment: staging\n  criticality: tier-1\n  channel: stable\n  regions: [eu-central-1, eu-west-1]',
      ]),
    )
    expect(moves(p)).toEqual({ [PROD]: 'production → rest' })
    const [finding] = stageFindings(p)
    expect(finding!.addresses).toEqual([`${PROD}/_stage`])
    expect(finding!.message).toContain(
      '1 production target would move from stage "production" to stage "rest"',
    )
    expect(finding!.message).toContain('stage "production" needs a person\'s approval')
    expect(finding!.message).not.toContain('comes before')
  })

  test('an account whose group becomes ops moves to the earlier ops stage, and so does its cluster, which inherits the group', () => {
    const p = plan(
      files(APPROVED_STABLE),
      files(APPROVED_STABLE, [
        ACCOUNTS,
        '  name: teapot-prod\n  team: teapot\n',
        '  name: teapot-prod\n  team: teapot\n  group: ops\n',
      ]),
    )
    expect(moves(p)).toEqual({ [PROD]: 'stable → ops', [CLUSTER]: 'stable → ops' })
    expect(p.targets.find((t) => t.id === CLUSTER)).toMatchObject({
      kind: 'cluster',
      group: 'ops',
      stage: 'ops',
    })
    expect(stageFindings(p).flatMap((f) => f.addresses)).toEqual([`${PROD}/_stage`, `${CLUSTER}/_stage`])
    expect(p.summary).toMatchObject({ stageMoves: 2, opsTargetsChanged: 2 })
    // Both moves approved at once, by a pattern with their exact count.
    const approved = plan(
      files(APPROVED_STABLE),
      files(APPROVED_STABLE, [
        ACCOUNTS,
        '  name: teapot-prod\n  team: teapot\n',
        '  name: teapot-prod\n  team: teapot\n  group: ops\n',
      ]),
      [parseApproval('**/_stage (expected 2)')],
    )
    expect(approved.verdict).toBe('allowed')
  })

  test('an edited stage selector moves targets the same way, without any inventory change', () => {
    const stages = (dev: string) =>
      rollout(`dev: ${dev}`, "ops: target.group == 'ops'", "stable: target.channel == 'stable' !")
    const p = plan(
      files(stages("target.channel == 'dev'")),
      files(stages("target.channel == 'dev' || target.environment == 'production' && target.group != 'ops'")),
    )
    expect(moves(p)).toEqual({ [PROD]: 'stable → dev', [CLUSTER]: 'stable → dev' })
    expect(stageFindings(p).flatMap((f) => f.addresses)).toEqual([`${PROD}/_stage`, `${CLUSTER}/_stage`])
  })

  test('reordering the stages cannot launder a move: the base revision’s order judges it', () => {
    // In the head, dev comes after stable; the account's move to dev still goes earlier by the base.
    const head = files(
      rollout(
        "ops: target.group == 'ops'",
        "stable: target.channel == 'stable' && target.id != '111111111111'",
        "dev: target.channel == 'dev' || target.id == '111111111111'",
      ),
    )
    const p = plan({}, head)
    expect(moves(p)).toEqual({ [PROD]: 'stable → dev' })
    const [finding] = stageFindings(p)
    expect(finding!.addresses).toEqual([`${PROD}/_stage`])
    expect(finding!.message).toContain(
      '"dev" comes before "stable" in the base revision\'s rollout order (dev → ops → stable)',
    )
  })

  test('a production target moved into a stage the base does not have needs an approval: its place cannot be trusted', () => {
    // Stable renamed: every production target "moves" to a stage the base revision never ordered.
    const p = plan(
      files(APPROVED_STABLE),
      files(
        rollout(
          "dev: target.channel == 'dev'",
          "ops: target.group == 'ops'",
          "production: target.channel == 'stable' !",
        ),
      ),
    )
    expect(moves(p)).toEqual({ [PROD]: 'stable → production', [CLUSTER]: 'stable → production' })
    const [finding, ...rest] = stageFindings(p)
    expect(rest).toEqual([])
    expect(finding!.message).toContain(
      'stage "production" is not in the base revision\'s rollout.yaml, so its place in the rollout order cannot be trusted',
    )
    // The new stage requires an approval (the head's rollouts will wait for it): nothing is left.
    expect(finding!.message).not.toContain('does not')
  })

  test('a stage removed from rollout.yaml moves its targets; a later move into an approval stage needs nothing', () => {
    const canary = (withCanary: boolean) =>
      rollout(
        "dev: target.channel == 'dev'",
        "ops: target.group == 'ops'",
        ...(withCanary ? ["canary: target.id == '111111111111'"] : []),
        "stable: target.channel == 'stable' !",
      )
    const p = plan(files(canary(true)), files(canary(false)))
    expect(moves(p)).toEqual({ [PROD]: 'canary → stable' })
    expect(p.verdict).toBe('allowed')
    expect(stageFindings(p)).toEqual([])
    // Adding the canary stage back is the opposite: out of the approval stage, into an unknown place.
    const back = plan(files(canary(false)), files(canary(true)))
    expect(moves(back)).toEqual({ [PROD]: 'stable → canary' })
    expect(stageFindings(back).flatMap((f) => f.addresses)).toEqual([`${PROD}/_stage`])
  })

  test('a non-production target moving earlier is shown and needs no approval; leaving an approval stage does', () => {
    const base = files(channel(TEST, 'dev', 'stable'))
    const p = plan(base, {})
    expect(moves(p)).toEqual({ [TEST]: 'stable → dev' })
    expect(p.targets.find((t) => t.id === TEST)).toMatchObject({ environment: 'test', changes: [] })
    expect(stageFindings(p)).toEqual([])
    expect(p.verdict).toBe('allowed')
    expect(p.summary.stageMoves).toBe(1)

    const approval = plan(files(APPROVED_STABLE, channel(TEST, 'dev', 'stable')), files(APPROVED_STABLE))
    const [finding] = stageFindings(approval)
    expect(finding!.addresses).toEqual([`${TEST}/_stage`])
    expect(finding!.message).toMatch(/^1 target would move from stage "stable" to stage "dev"/)
  })

  test('a later move out of an approval stage into one only the head marks approval: required is still held', () => {
    const stages = (bApproved: boolean) =>
      rollout(
        "dev: target.channel == 'dev'",
        "ops: target.group == 'ops'",
        "a: target.id == '111111111111' !",
        `b: target.channel == 'stable'${bApproved ? ' !' : ''}`,
      )
    const headStages = rollout(
      "dev: target.channel == 'dev'",
      "ops: target.group == 'ops'",
      "a: target.id == 'none' !",
      "b: target.channel == 'stable' !",
    )
    const p = plan(files(stages(false)), files(headStages))
    expect(moves(p)).toEqual({ [PROD]: 'a → b' })
    expect(stageFindings(p).flatMap((f) => f.addresses)).toEqual([`${PROD}/_stage`])
    // Where both revisions require the approval of b, the move keeps one: nothing to approve.
    const kept = plan(files(stages(true)), files(headStages))
    expect(moves(kept)).toEqual({ [PROD]: 'a → b' })
    expect(stageFindings(kept)).toEqual([])
  })

  test('a stage that loses approval: required needs an approval of rollout.yaml/<stage>/approval when it holds production targets', () => {
    const p = plan(files(APPROVED_STABLE), {})
    expect(moves(p)).toEqual({})
    const [finding, ...rest] = stageFindings(p)
    expect(rest).toEqual([])
    expect(finding).toMatchObject({ effect: 'require-approval', addresses: [stageApprovalAddress('stable')] })
    expect(finding!.message).toBe(
      `stage "stable" no longer needs a person's approval before it starts (approval: required was removed from rollout.yaml); 2 production targets stay in it (${PROD}, ${CLUSTER}) and would be rolled out without one. Approve rollout.yaml/stable/approval, or keep approval: required`,
    )
    expect(p.verdict).toBe('requires-approval')
    // Approved, the change is what it renders: nothing.
    expect(plan(files(APPROVED_STABLE), {}, [parseApproval('rollout.yaml/stable/approval')]).verdict).toBe(
      'no-changes',
    )

    // A stage of test targets only: a warning.
    const dev = (approved: boolean) =>
      rollout(
        `dev: target.channel == 'dev'${approved ? ' !' : ''}`,
        "ops: target.group == 'ops'",
        "stable: target.channel == 'stable'",
      )
    const warned = plan(files(dev(true)), files(dev(false)))
    expect(stageFindings(warned).map((f) => [f.effect, f.addresses])).toEqual([['warn', []]])
    expect(stageFindings(warned)[0]!.message).toContain(`it holds no production target (1 target: ${TEST})`)
  })

  test('the stage of a new target is not a move, and unchanged stages find nothing', () => {
    const added = files([
      ACCOUNTS,
      '- id: "333333333333"',
      '- id: "444444444444"\n  name: teapot-new\n  team: teapot\n  environment: production\n  criticality: tier-2\n  channel: dev\n  regions: [eu-central-1]\n  tags: { owner: teapot }\n  config: { dns_domain: new.example.org, replicas: 1 }\n- id: "333333333333"',
    ])
    const p = plan({}, added)
    expect(moves(p)).toEqual({})
    expect(p.targets.find((t) => t.id === '444444444444')).toMatchObject({ stage: 'dev' })
    expect(p.targets.find((t) => t.id === '444444444444')!.stageMove).toBeUndefined()
    expect(stageFindings(p)).toEqual([])
    expect(stageFindings(plan({}, {}))).toEqual([])
    expect(p.targets.some((t) => t.id === OPS)).toBe(false)
  })
})
