/**
 * Governance changes: edits of the rules that judge changes — `policies/`, `rollout.yaml`, and the
 * protective settings of `fleet.yaml` (protect, limits, node rotation, trust, stage coverage). Such an edit never
 * judges itself (the trusted revision's rules still apply to it, see `core/plan/judgement.ts`), and it is a
 * finding of its own that an owner of the rules must approve: a team member who may change their
 * own accounts may not, by the same pull request, switch off the freeze that holds everyone.
 *
 * The comparison is of the loaded rules, not of the files' text: a comment or a reordering of
 * keys changes nothing that judges, while an alias or a flow mapping that says the same thing
 * another way cannot hide an edit.
 */
import type { Fleet } from '../model/fleet-model.ts'
import type { Finding } from '../model/plan.ts'
import type { GovernanceEdit } from './plan-context.ts'
import type { PlanRule } from './rules.ts'

/** The finding's rule id. */
export const GOVERNANCE_RULE = 'governance-change'

/** What of a revision governs changes. */
export type GoverningRules = Pick<Fleet, 'policies' | 'policyOverrides' | 'settings' | 'rollout'>

/** The protective settings of `fleet.yaml`: what a plan, a rotation or the trust is held to. */
const PROTECTIVE_SETTINGS = ['protect', 'limits', 'nodeRotation', 'trust', 'coverage'] as const

/**
 * Every edit from the trusted rules to the head's, sorted by address. Additions count too: a new
 * policy is harmless on its own, but a new stage selector or gate can reroute targets past the
 * stages that guard them, and "owners approve edits of the rules" is simpler to reason about
 * than a list of exceptions.
 */
export function governanceEdits(trusted: GoverningRules, head: GoverningRules): GovernanceEdit[] {
  const edits: GovernanceEdit[] = []
  const policyOf = (rules: GoverningRules) =>
    keyed([
      ...rules.policies.map((p) => ({ key: p.name, file: p.at.file, value: p })),
      ...rules.policyOverrides.map((o) => ({ key: o.name, file: o.at.file, value: o })),
    ])
  compare(policyOf(trusted), policyOf(head), (name, change, file) =>
    edits.push({ address: `governance/policies/${name}`, what: `policy ${name} ${change} (${file})` }),
  )
  const stagesOf = (rules: GoverningRules) =>
    keyed(rules.rollout.stages.map((s) => ({ key: s.name, file: s.at.file, value: s })))
  compare(stagesOf(trusted), stagesOf(head), (name, change, file) =>
    edits.push({ address: `governance/rollout/stages/${name}`, what: `stage ${name} ${change} (${file})` }),
  )
  const order = (rules: GoverningRules) => rules.rollout.stages.map((s) => s.name).join(' → ')
  if (order(trusted) !== order(head))
    edits.push({
      address: 'governance/rollout/order',
      what: `stage order ${order(trusted)} changed to ${order(head)} (rollout.yaml)`,
    })
  if (canonical(trusted.rollout.defaults) !== canonical(head.rollout.defaults))
    edits.push({ address: 'governance/rollout/defaults', what: 'stage defaults changed (rollout.yaml)' })
  const gatesOf = (rules: GoverningRules) =>
    keyed(Object.entries(rules.rollout.gates).map(([name, g]) => ({ key: name, file: g.at.file, value: g })))
  compare(gatesOf(trusted), gatesOf(head), (name, change, file) =>
    edits.push({ address: `governance/rollout/gates/${name}`, what: `gate ${name} ${change} (${file})` }),
  )
  for (const setting of PROTECTIVE_SETTINGS) {
    if (canonical(trusted.settings[setting]) !== canonical(head.settings[setting]))
      edits.push({
        address: `governance/fleet/${setting}`,
        what: `${setting} changed (${head.settings.at.file})`,
      })
  }
  return edits.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
}

/**
 * The `governance-change` finding of a plan whose head edits the trusted rules: it requires an
 * approval of each edit's address, which only admins and members of the owner teams may give
 * (the server checks who approves; an offline plan lists who may).
 */
export function governanceFinding(
  edits: readonly GovernanceEdit[],
  owners: readonly string[],
): Finding | undefined {
  if (edits.length === 0) return undefined
  const who = owners.length > 0 ? `an admin or a member of ${owners.join(', ')}` : 'an admin'
  const shown = edits.slice(0, 5).map((e) => e.what)
  const more = edits.length > shown.length ? `, and ${edits.length - shown.length} more` : ''
  return {
    rule: GOVERNANCE_RULE,
    effect: 'require-approval',
    message: `this change edits the rules that judge changes: ${shown.join('; ')}${more}. It is judged by the trusted rules as well as its own, and needs the approval of ${who} (trust.owners in fleet.yaml); the edit takes effect for the plans after it`,
    addresses: edits.map((e) => e.address),
  }
}

/** Whether an approval address is one of a governance change (owners approve it, not target teams). */
export function isGovernanceAddress(address: string): boolean {
  return address.startsWith('governance/')
}

type Keyed = Map<string, { file: string; text: string }>

function keyed(entries: readonly { key: string; file: string; value: unknown }[]): Keyed {
  const out: Keyed = new Map()
  for (const e of entries) {
    // Two policy files can define a rule of the same name; both judge, so both are compared.
    const previous = out.get(e.key)
    const text = canonical(e.value)
    out.set(
      e.key,
      previous ? { file: previous.file, text: `${previous.text}\n${text}` } : { file: e.file, text },
    )
  }
  return out
}

function compare(
  trusted: Keyed,
  head: Keyed,
  report: (key: string, change: 'added' | 'removed' | 'changed', file: string) => void,
): void {
  for (const [key, entry] of trusted) {
    const now = head.get(key)
    if (!now) report(key, 'removed', entry.file)
    else if (now.text !== entry.text) report(key, 'changed', now.file)
  }
  for (const [key, entry] of head) if (!trusted.has(key)) report(key, 'added', entry.file)
}

/** Keys whose values are where a rule was written or its compiled form, not what it says. */
const NOT_MEANING = new Set(['at', 'selector', 'condition', 'templates', 'compiledCondition', 'locate'])

/** A stable text of what a rule says: sorted keys, without locations and compiled forms. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (NOT_MEANING.has(key)) return undefined
    if (v && typeof v === 'object' && !Array.isArray(v))
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    return v
  })
}

/** The built-in rule: a plan whose head edits the trusted rules needs an owner's approval. */
export const governanceChange: PlanRule = {
  id: GOVERNANCE_RULE,
  description: 'An edit of policies/, rollout.yaml or the protective settings of fleet.yaml needs an owner',
  evaluate(context) {
    const finding = context.governance
      ? governanceFinding(context.governance.edits, context.governance.owners)
      : undefined
    return finding ? [finding] : []
  },
}
