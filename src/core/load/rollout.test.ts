import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const ROLLOUT = 'rollout.yaml'

/** The base rollout with an extra gate definition under `gates:`. */
function withGate(definition: string, used = true): Record<string, string> {
  const text = BASE_FILES[ROLLOUT]!.replace('gates:\n', `gates:\n  ${definition}\n`)
  return {
    [ROLLOUT]: used
      ? text.replace('gates: [healthy]\n  - name: stable', 'gates: [healthy, extra]\n  - name: stable')
      : text,
  }
}

describe('rollout: stages', () => {
  test('a stage using a gate that is not defined', () => {
    expect(
      errorsFor(edit(ROLLOUT, 'gates: [healthy]\n  - name: stable', 'gates: [helthy]\n  - name: stable')),
    ).toEqual([
      'rollout.yaml:7:13: stage "ops" uses gate "helthy", which is not defined under gates; did you mean "healthy"? (defined: healthy)',
    ])
  })

  test('a duplicate stage name', () => {
    expect(errorsFor(edit(ROLLOUT, 'name: ops', 'name: dev'))).toEqual([
      'rollout.yaml:5:11: duplicate stage name "dev" (first is stage 1)',
    ])
  })

  test('waves must grow and end at 100%', () => {
    expect(errorsFor(edit(ROLLOUT, '[1, 50%, 100%]', '[1, 50%, 10%]'))).toEqual([
      'rollout.yaml:10:21: the last wave must be 100% so that the stage reaches every target it selects',
      'rollout.yaml:10:21: wave 3 (10%) is smaller than the wave before it; waves are cumulative',
    ])
    expect(errorsFor(edit(ROLLOUT, '[1, 50%, 100%]', '[5, 2, 100%]'))).toEqual([
      'rollout.yaml:10:16: wave 2 (2) is smaller than the wave before it; waves are cumulative',
    ])
  })

  test('a wave that is neither a count nor a share', () => {
    expect(errorsFor(edit(ROLLOUT, '[1, 50%, 100%]', '[1, 150%, 100%]'))).toEqual([
      'rollout.yaml:10:16: invalid "waves" "150%": expected a share such as 10% (1% to 100%)',
    ])
  })

  test('a stage with an unknown key', () => {
    expect(errorsFor(edit(ROLLOUT, '    waves:', '    aproval: required\n    waves:'))).toEqual([
      'rollout.yaml:10:5: unknown key "aproval"; did you mean "approval"?',
    ])
  })

  test('an invalid duration and an invalid onFailure in the defaults', () => {
    expect(
      errorsFor(
        edit(ROLLOUT, '{ maxParallel: 1 }', '{ maxParallel: 1, bake: 5 minutes, onFailure: rolback }'),
      ),
    ).toEqual([
      'rollout.yaml:1:35: invalid "bake" "5 minutes": expected a duration such as 30s, 5m or 1h30m',
      'rollout.yaml:1:57: invalid value "rolback" for "onFailure": expected one of rollback, halt; did you mean "rollback"?',
    ])
  })

  test('maxParallel must be a whole number of at least 1', () => {
    expect(errorsFor(edit(ROLLOUT, '{ maxParallel: 1 }', '{ maxParallel: 0 }'))).toEqual([
      'rollout.yaml:1:26: "maxParallel" must be at least 1',
    ])
  })

  test('there must be at least one stage', () => {
    expect(errorsFor({ [ROLLOUT]: 'stages: []\n' })).toEqual([
      'rollout.yaml:1:9: "stages" needs at least 1 entry',
    ])
  })

  test('rollout.yaml is required', () => {
    expect(errorsFor({ [ROLLOUT]: null })).toEqual([
      'rollout.yaml:1:1: rollout.yaml is missing; every fleet repository needs it (see "flotilla init --example")',
    ])
  })
})

describe('rollout: stage selectors', () => {
  const select = (expression: string) =>
    errorsFor(edit(ROLLOUT, "select: target.channel == 'dev'", `select: ${expression}`))

  test('a CEL syntax error', () => {
    expect(select("target.channel == 'dev")).toEqual([
      expect.stringMatching(/^rollout\.yaml:4:\d+: CEL syntax error: /),
    ])
  })

  test('a stage selector sees only target and fleet', () => {
    expect(select("account.channel == 'dev'")).toEqual([
      'rollout.yaml:4:13: CEL type error: Unknown variable: account (available here: target, fleet)',
    ])
  })

  test('a misspelt field', () => {
    expect(select("target.chanel == 'dev'")).toEqual([
      'rollout.yaml:4:20: CEL type error: No such key: chanel; did you mean "channel"?',
    ])
  })

  test('a selector must be true or false', () => {
    expect(select('target.regions')).toEqual([
      'rollout.yaml:4:13: this expression must be true or false, but it is of type list<string>',
    ])
  })
})

describe('rollout: gates', () => {
  test('an unknown gate type, with the closest', () => {
    expect(errorsFor(edit(ROLLOUT, '{ type: health }', '{ type: helth }'))).toEqual([
      'rollout.yaml:13:20: invalid value "helth" for "type": expected one of health, dns, command, http, prometheus; did you mean "health"?',
    ])
  })

  test('a gate without a type', () => {
    expect(errorsFor(edit(ROLLOUT, '{ type: health }', '{ timeout: 5m }'))).toEqual([
      'rollout.yaml:13:12: missing required key "type" (one of health, dns, command, http, prometheus)',
    ])
  })

  test("a key that is not one of the gate type's", () => {
    expect(errorsFor(withGate('extra: { type: health, names: [a] }'))).toEqual([
      'rollout.yaml:13:26: unknown key "names" (valid keys: type, description, timeout)',
    ])
  })

  test("a gate type's required key", () => {
    expect(errorsFor(withGate('extra: { type: dns }'))).toEqual([
      'rollout.yaml:13:10: missing required key "names"',
    ])
  })

  test('an expression error in a gate template', () => {
    expect(errorsFor(withGate('extra: { type: command, run: "./check {{ target.idd }}" }'))).toEqual([
      'rollout.yaml:13:51: CEL type error: No such key: idd; did you mean "id"? in {{ target.idd }}',
    ])
  })

  test('an expression error in a prometheus condition', () => {
    const gate =
      'extra: { type: prometheus, url: "http://127.0.0.1:9090", query: up, condition: "reslt < 1" }'
    expect(errorsFor(withGate(gate))).toEqual([
      'rollout.yaml:13:83: CEL type error: Unknown variable: reslt; did you mean "result"? (available here: result, target)',
    ])
  })

  test('a gate no stage uses is a warning, not an error', () => {
    const { warnings } = loadValid(withGate('spare: { type: health }', false))
    expect(warnings).toEqual(['rollout.yaml:13:3: warning: gate "spare" is not used by any stage'])
  })

  test('defaults are filled in', () => {
    const { fleet } = loadValid()
    expect(fleet.rollout.defaults).toEqual({
      maxParallel: 1,
      failureTolerance: 0,
      bake: '0s',
      onFailure: 'rollback',
    })
    expect(fleet.rollout.stages.map((s) => s.name)).toEqual(['dev', 'ops', 'stable'])
    expect(Object.keys(fleet.rollout.gates)).toEqual(['healthy'])
  })
})
