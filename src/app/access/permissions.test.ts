import { describe, expect, test } from 'vitest'
import type { AddressOwnership } from '../../core/policy/approval-owners.ts'
import { mayApprove, type Principal } from './permissions.ts'

const person = (role: Principal['role'], teams: string[], elevated = false): Principal => ({
  name: 'pat',
  role,
  teams: new Set(teams),
  elevation: elevated ? { reason: 'INC-1', until: new Date(8.64e15), grantedBy: 'admin' } : null,
})
const teapot: AddressOwnership = { kind: 'targets', address: '111111111111/x', teams: ['teapot'] }
const both: AddressOwnership = { kind: 'targets', address: 'plan/big', teams: ['kettle', 'teapot'] }
const rules: AddressOwnership = { kind: 'rules', address: 'governance/policies/a.yaml', teams: ['sre'] }
const nobody: AddressOwnership = { kind: 'unowned', address: 'nowhere/x' }

describe('mayApprove', () => {
  test('a member approves what their teams own: every team of it', () => {
    expect(mayApprove(person('member', ['teapot']), 'a', [teapot]).allowed).toBe(true)
    expect(mayApprove(person('member', ['teapot', 'kettle']), 'a', [both]).allowed).toBe(true)
    expect(mayApprove(person('member', ['teapot']), 'plan/big', [both])).toEqual({
      allowed: false,
      reason:
        'pat cannot approve "plan/big": it concerns team kettle, and pat is a member of teapot; ask a member of kettle, or an admin, to approve it',
    })
    expect(mayApprove(person('member', []), 'a', [teapot, both])).toEqual({
      allowed: false,
      reason:
        'pat cannot approve "a": it concerns teams kettle, teapot, and pat is a member of no team; ask a member of kettle and of teapot, or an admin, to approve it',
    })
  })

  test('the rules: a member of one of trust.owners; an unowned address: admins only', () => {
    expect(mayApprove(person('member', ['sre']), 'g', [rules]).allowed).toBe(true)
    expect(mayApprove(person('member', ['teapot']), 'g', [rules])).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('only admins and members of sre may approve (fleet.yaml trust.owners)'),
    })
    expect(
      mayApprove(person('member', ['sre']), 'g', [{ ...rules, teams: [] }]).allowed,
      'no owners: admins only',
    ).toBe(false)
    expect(mayApprove(person('member', ['teapot']), 'n', [nobody]).allowed).toBe(false)
  })

  test('admins, elevated members too, approve anything; a viewer nothing', () => {
    for (const needs of [[teapot], [both], [rules], [nobody]]) {
      expect(mayApprove(person('admin', []), 'x', needs).allowed).toBe(true)
      expect(mayApprove(person('member', [], true), 'x', needs).allowed).toBe(true)
      expect(mayApprove(person('viewer', ['teapot', 'kettle', 'sre']), 'x', needs).allowed).toBe(false)
    }
  })

  test('an approval that concerns nothing owned by anyone else is a member’s to give (a pattern matching nothing)', () => {
    expect(mayApprove(person('member', []), '** (expected 0)', []).allowed).toBe(true)
  })
})
