import { InputError } from '../errors.ts'
import type { Finding } from '../model/plan.ts'

/**
 * An approval: one exact address, or a pattern with the exact number of addresses it must match
 * (`*` within one address segment, `**` across segments). A pattern that matches another number
 * fails: "delete 600 things" is never approved by someone who thought it was six.
 */
export type Approval =
  | { readonly kind: 'address'; readonly address: string }
  | { readonly kind: 'pattern'; readonly glob: string; readonly expectedCount: number }

/** The written form of an approval, the same as in a plan's `approvalsRequired`. */
export function formatApproval(approval: Approval): string {
  return approval.kind === 'address'
    ? approval.address
    : `${approval.glob} (expected ${approval.expectedCount})`
}

/**
 * Reads an approval as written on the command line or in an approvals file: an address, or
 * `GLOB (expected N)` exactly as `approvalsRequired` lists it.
 */
export function parseApproval(text: string): Approval {
  const trimmed = text.trim()
  const pattern = /^(.+?)\s+\(expected (\d+)\)$/.exec(trimmed)
  if (pattern) return { kind: 'pattern', glob: pattern[1]!, expectedCount: Number(pattern[2]) }
  if (trimmed === '') throw new InputError('an empty approval; give an address or "PATTERN (expected N)"')
  if (trimmed.includes('*')) {
    throw new InputError(
      `approval "${trimmed}" is a pattern without a count; write it as "${trimmed} (expected N)" with the number of addresses it must match`,
    )
  }
  return { kind: 'address', address: trimmed }
}

/** Whether an address matches a glob: `*` stays within a segment, `**` crosses segments. */
export function matchesGlob(glob: string, address: string): boolean {
  const source = glob
    .split('**')
    .map((part) => part.split('*').map(escapeRegExp).join('[^/]*'))
    .join('.*')
  return new RegExp(`^${source}$`).test(address)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

/** What the given approvals did to a plan's findings. */
export interface ApprovalOutcome {
  /**
   * The approval findings (`approval-mismatch`: deny; `stale-approval` and `approval-not-exact`:
   * warn) to add to the plan.
   */
  readonly findings: Finding[]
  /** Required approvals still missing (the same written form as `approvalsRequired`). */
  readonly unmet: string[]
  /** Every approval given, in written form. */
  readonly given: string[]
}

/**
 * Checks given approvals against the plan's require-approval findings. A finding is satisfied
 * when each of its addresses is approved — exactly, or by a pattern whose count is right; a
 * finding that asks for a pattern (`delete-budget`) needs a pattern approval covering exactly its
 * addresses. A pattern approval that matches more addresses than it says, but exactly the
 * addresses of such a finding, approves that finding's addresses only. Approvals that match
 * nothing are reported (a stale approval is a smell), and a pattern that matches another number
 * than it says denies the plan.
 *
 * A protected destruction (an address of a `protected-destroy` finding, whatever other finding
 * names it too) is approved only by its exact address: a pattern may still satisfy a budget that
 * counts it, but never the destruction itself (`approval-not-exact` says so). One click must not
 * approve hundreds of zones.
 */
export function applyApprovals(
  findings: readonly Finding[],
  approvals: readonly Approval[],
): ApprovalOutcome {
  const required = new Set(
    findings.filter((f) => f.effect === 'require-approval').flatMap((f) => f.addresses),
  )
  const exactOnly = protectedDestructions(findings)
  const approved = new Set<string>()
  const approvedPatterns: { glob: string; matched: Set<string> }[] = []
  const extra: Finding[] = []
  const notExact: { approval: Approval; addresses: string[] }[] = []
  const approveByPattern = (
    approval: Extract<Approval, { kind: 'pattern' }>,
    addresses: readonly string[],
  ) => {
    // The pattern counts for a finding that asked for it (a budget), but approves no protected
    // destruction: each of those needs its own, exact approval.
    approvedPatterns.push({ glob: approval.glob, matched: new Set(addresses) })
    for (const address of addresses) if (!exactOnly.has(address)) approved.add(address)
    notExact.push({ approval, addresses: addresses.filter((a) => exactOnly.has(a)) })
  }
  for (const approval of approvals) {
    if (approval.kind === 'address') {
      if (required.has(approval.address)) approved.add(approval.address)
      else extra.push(stale(approval))
      continue
    }
    const matched = [...required].filter((a) => matchesGlob(approval.glob, a))
    const asked = matched.length === approval.expectedCount ? undefined : askedFor(approval, findings)
    if (matched.length === 0) {
      extra.push(stale(approval))
    } else if (asked) {
      // The pattern a finding asked for also matches addresses that other findings hold (a
      // protected resource that may be replaced, a cluster update): it approves the finding's
      // addresses, exactly as many as it says, and the others still need their own approvals.
      approveByPattern(approval, asked)
    } else if (matched.length !== approval.expectedCount) {
      extra.push({
        rule: 'approval-mismatch',
        effect: 'deny',
        message: `approval "${formatApproval(approval)}" matches ${matched.length} ${matched.length === 1 ? 'address' : 'addresses'} of this plan, not ${approval.expectedCount}: the plan is not what was approved — review it again and approve the right count`,
        addresses: matched,
      })
    } else {
      approveByPattern(approval, matched)
    }
  }
  for (const { approval, addresses } of notExact) {
    const missing = addresses.filter((a) => !approved.has(a))
    if (missing.length > 0) extra.push(notExactFinding(approval, missing))
  }
  const unmet = new Set<string>()
  for (const finding of findings) {
    if (finding.effect !== 'require-approval') continue
    if (finding.pattern) {
      const covered = approvedPatterns.some(
        (p) =>
          p.matched.size === finding.addresses.length && finding.addresses.every((a) => p.matched.has(a)),
      )
      if (!covered) unmet.add(`${finding.pattern.glob} (expected ${finding.pattern.expectedCount})`)
      continue
    }
    for (const address of finding.addresses) if (!approved.has(address)) unmet.add(address)
  }
  return { findings: extra, unmet: [...unmet].sort(), given: approvals.map(formatApproval) }
}

/**
 * The addresses of the pattern finding (`delete-budget`) that a pattern approval was written for:
 * one whose every address the glob matches and whose count is the approval's. Undefined when
 * there is none.
 */
function askedFor(
  approval: Extract<Approval, { kind: 'pattern' }>,
  findings: readonly Finding[],
): readonly string[] | undefined {
  return findings.find(
    (f) =>
      f.effect === 'require-approval' &&
      f.pattern !== undefined &&
      f.addresses.length === approval.expectedCount &&
      new Set(f.addresses).size === f.addresses.length &&
      f.addresses.every((a) => matchesGlob(approval.glob, a)),
  )?.addresses
}

/** The addresses only an exact approval approves: protected resources deleted or replaced. */
function protectedDestructions(findings: readonly Finding[]): ReadonlySet<string> {
  return new Set(findings.filter((f) => f.rule === 'protected-destroy').flatMap((f) => f.addresses))
}

function notExactFinding(approval: Approval, addresses: readonly string[]): Finding {
  const n = addresses.length
  return {
    rule: 'approval-not-exact',
    effect: 'warn',
    message: `approval "${formatApproval(approval)}" matches ${n} protected ${n === 1 ? 'resource' : 'resources'} to be deleted or replaced, and a pattern never approves a protected destruction: approve ${n === 1 ? 'it by its exact address' : 'each by its exact address'}`,
    addresses: [...addresses],
  }
}

function stale(approval: Approval): Finding {
  return {
    rule: 'stale-approval',
    effect: 'warn',
    message: `approval "${formatApproval(approval)}" matches nothing this plan needs approved; remove it (a stale approval could approve a later change no one reviewed)`,
    addresses: [],
  }
}
