import { describe, expect, it } from 'vitest'
import {
  ConflictError,
  InputError,
  PolicyError,
  ProviderError,
  type ProviderErrorCode,
} from '../core/errors.ts'
import type { CliIo } from './io.ts'
import { EXIT, reportError } from './report-error.ts'

function captured(): { io: CliIo; stderr: () => string } {
  let err = ''
  return {
    io: {
      stdout: () => {},
      stderr: (text) => {
        err += text
      },
      isTTY: false,
      cwd: '.',
    },
    stderr: () => err,
  }
}

function report(error: unknown): { code: number; stderr: string } {
  const { io, stderr } = captured()
  const code = reportError(error, io)
  return { code, stderr: stderr() }
}

describe('reportError: a provider failure', () => {
  const cases: [ProviderErrorCode, number, RegExp][] = [
    ['throttled', EXIT.unavailable, /throttling these calls: try again in a minute$/],
    ['unavailable', EXIT.unavailable, /failing or out of reach: try again later$/],
    ['busy', EXIT.unavailable, /still changing: try again once it has settled$/],
    [
      'refused',
      EXIT.user,
      /the provider refused, and retrying will not change that: fix what it says first$/,
    ],
    [
      'invalid',
      EXIT.user,
      /retrying will not help: fix the repository, the inventory or the provider's settings$/,
    ],
  ]
  it.each(cases)(
    '%s: exit %i and one line naming the target, the address and what to do',
    (code, exit, advice) => {
      const run = report(
        new ProviderError(code, 'acct-1', 'CloudFormation said no\nsecond line', 'acct-1/network'),
      )
      expect(run.code).toBe(exit)
      expect(run.stderr.endsWith('\n')).toBe(true)
      const lines = run.stderr.trimEnd().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^error: target acct-1 \(acct-1\/network\): CloudFormation said no; /)
      expect(lines[0]).toMatch(advice)
      expect(run.stderr).not.toMatch(/internal error|\n\s+at /)
    },
  )

  it('names the target and the address once: not again when the message names them', () => {
    expect(
      report(
        new ProviderError('busy', 'acct-1', 'stack acct-1/network is UPDATE_IN_PROGRESS', 'acct-1/network'),
      ).stderr,
    ).toBe(
      'error: stack acct-1/network is UPDATE_IN_PROGRESS; something there is still changing: try again once it has settled\n',
    )
    expect(
      report(new ProviderError('refused', 'acct-1', 'the template cannot be read', 'acct-1/vpc')).stderr,
    ).toMatch(/^error: target acct-1 \(acct-1\/vpc\): the template cannot be read; /)
    expect(
      report(new ProviderError('refused', 'acct-1', 'cannot read acct-1/vpc', 'acct-1/vpc/Zone')).stderr,
    ).toMatch(/^error: acct-1\/vpc\/Zone: cannot read acct-1\/vpc; /)
    expect(report(new ProviderError('invalid', '', "snapshot s-1 is not this provider's")).stderr).toMatch(
      /^error: snapshot s-1 is not this provider's; /,
    )
  })
})

describe('reportError: the rest of the taxonomy keeps its codes', () => {
  it('maps input, conflict and policy errors and bugs as cli.md says', () => {
    expect(report(new InputError('bad argument'))).toEqual({
      code: EXIT.user,
      stderr: 'error: bad argument\n',
    })
    expect(report(new ConflictError('held')).code).toBe(EXIT.user)
    expect(report(new PolicyError('denied')).code).toBe(EXIT.denied)
    const bug = report(new TypeError('oops'))
    expect(bug.code).toBe(EXIT.internal)
    expect(bug.stderr).toMatch(/^internal error [0-9a-f]{8}: oops\nThis is a bug in Flotilla/)
  })

  it('prints every diagnostic of an input error, then its first line', () => {
    const error = new InputError('1 problem', [
      { severity: 'error', rule: 'schema', message: 'one', file: 'fleet.yaml', line: 1, col: 2 },
    ])
    const run = report(error)
    expect(run.code).toBe(EXIT.user)
    expect(run.stderr).toBe('fleet.yaml:1:2: one\n1 problem\n')
  })
})
