/**
 * Who judges a plan: the rules of the trusted revision (the tip of the trusted branch) and of the
 * change's head — and, for a plan between two revisions, of its base — strictest wins. Policies,
 * built-in overrides, `protect` and `limits` of every judge apply; a target is seen as every judge
 * sees it; and what the head edits of the trusted rules is a `governance-change` that an owner of
 * the rules (the trusted revision's `trust.owners`) approves. Pure.
 */
import type { Fleet } from '../model/fleet-model.ts'
import { describeSource } from '../model/source.ts'
import { governanceEdits } from '../policy/governance.ts'
import type { Governance, PlanLimits, TrustedView } from '../policy/plan-context.ts'
import { type Judge, judgedRegistry } from '../policy/policy-rules.ts'
import type { RuleRegistry } from '../policy/rules.ts'
import { strictestSettings } from './plan-fleet.ts'

/** A revision whose rules judge a plan besides its own sides. */
export interface TrustedFleet {
  readonly fleet: Fleet
  /** How people know it: `main 1a2b3c4d5e6f`. */
  readonly label: string
}

/** What judging adds to a plan's input. */
export interface Judgement {
  readonly rules: RuleRegistry
  readonly limits: PlanLimits
  readonly protect: string[]
  readonly governance: Governance
  readonly trusted?: TrustedView
  /** Whose rules judged, when the trusted revision is neither side of the plan. */
  readonly judgedBy?: string[]
}

/**
 * The judgement of a change to `head`. `trusted` is the trusted revision, when one was found;
 * `base` the other side of a plan between revisions (undefined against the observed fleet). The
 * governance edits are the head's against the trusted revision — else the base — since that is
 * what merging the head would change; with neither, the head's rules judge alone and there is
 * nothing to compare (the caller says which trust it used).
 */
export function judge(head: Fleet, options: { trusted?: TrustedFleet; base?: Fleet }): Judgement {
  const base = options.base && !sameRevision(options.base, head) ? options.base : undefined
  // The trusted revision judges besides the plan's sides only when it is neither of them.
  const extra =
    options.trusted &&
    !sameRevision(options.trusted.fleet, head) &&
    !(base && sameRevision(base, options.trusted.fleet))
      ? options.trusted
      : undefined
  const judges: { fleet: Fleet; label?: string }[] = []
  if (extra) judges.push({ fleet: extra.fleet, label: `${extra.label} (trusted)` })
  if (base) judges.push({ fleet: base, label: `base ${labelOf(base)}` })
  judges.push({ fleet: head })
  const reference = extra?.fleet ?? base ?? head
  const all = judges.map((j) => j.fleet)
  return {
    rules: judgedRegistry(
      judges.map((j): Judge => (j.label ? { rules: j.fleet, label: j.label } : { rules: j.fleet })),
    ),
    ...strictestSettings(...all.map((f) => f.settings)),
    governance: { edits: governanceEdits(reference, head), owners: reference.settings.trust.owners },
    ...(extra
      ? {
          trusted: {
            targets: new Map(extra.fleet.targets.map((t) => [t.id, t])),
            stageOf: extra.fleet.stageOf,
          },
          judgedBy: [...judges.filter((j) => j.label).map((j) => j.label!), `head ${labelOf(head)}`],
        }
      : {}),
  }
}

/** Whether two loaded fleets are the same commit (a directory is never the same as anything). */
function sameRevision(a: Fleet, b: Fleet): boolean {
  if (a === b) return true
  return a.source.kind === 'revision' && b.source.kind === 'revision' && a.source.commit === b.source.commit
}

function labelOf(fleet: Fleet): string {
  return fleet.source.kind === 'revision' ? fleet.source.commit.slice(0, 12) : describeSource(fleet.source)
}
