import type { RenderedStack } from '../../model/desired-state.ts'
import type { Finding } from '../../model/plan.ts'
import { STACK_TYPE } from '../../model/plan.ts'
import { awsResourceType } from '../../resource-types/aws.ts'
import { toLongForm } from '../../yaml/cfn-tags.ts'
import type { PlanRule } from '../rules.ts'

/**
 * `stack-rename`: in one target a stack disappears and another appears with the same resources
 * (by type and identifying properties: a zone's name, a bucket's name), without `MovedFrom`.
 * Applying that would destroy every resource of the old stack and create it again: deny, and say
 * which `MovedFrom` turns it into a move.
 */
export const stackRename: PlanRule = {
  id: 'stack-rename',
  description: 'a stack is renamed without MovedFrom',
  evaluate(context) {
    // (old name → new name) → what each target would lose, aggregated over the fleet.
    const renames = new Map<string, Rename>()
    for (const target of context.targets) {
      const deleted = target.changes
        .filter((c) => c.type === STACK_TYPE && c.action === 'delete')
        .map((c) => c.address)
      const created = target.changes
        .filter((c) => c.type === STACK_TYPE && c.action === 'create')
        .map((c) => c.address)
      if (deleted.length === 0 || created.length === 0) continue
      const baseStacks = stacksByAddress(context.base.desired.get(target.id)?.stacks)
      const headStacks = stacksByAddress(context.head.desired.get(target.id)?.stacks)
      for (const oldAddress of deleted) {
        const old = baseStacks.get(oldAddress)
        if (!old) continue
        const oldSignatures = signatures(old)
        for (const newAddress of created) {
          const next = headStacks.get(newAddress)
          if (!next || regionOf(oldAddress) !== regionOf(newAddress)) continue
          const shared = [...signatures(next).keys()].filter((s) => oldSignatures.has(s))
          if (shared.length === 0 || shared.length * 2 < oldSignatures.size) continue
          const key = `${old.stackName}\0${next.stackName}`
          const entry: Rename = renames.get(key) ?? {
            from: old.stackName,
            to: next.stackName,
            source: next.source,
            addresses: [],
            protectedTypes: new Map(),
            targets: 0,
          }
          entry.targets++
          for (const change of target.changes) {
            if (!change.address.startsWith(`${oldAddress}/`) || change.action !== 'delete') continue
            entry.addresses.push(change.address)
            if (change.protected)
              entry.protectedTypes.set(change.type, (entry.protectedTypes.get(change.type) ?? 0) + 1)
          }
          renames.set(key, entry)
        }
      }
    }
    return [...renames.values()].map((r): Finding => {
      const destroyed = [...r.protectedTypes].map(([type, n]) => `${n} × ${type}`).join(', ')
      return {
        rule: this.id,
        effect: 'deny',
        message: `stack "${r.from}" disappears and stack "${r.to}" appears with the same resources in ${r.targets} ${r.targets === 1 ? 'target' : 'targets'}: applying it would destroy and re-create them${destroyed ? `, including protected ${destroyed}` : ''}. If this is a rename, add "MovedFrom: ${r.from}" to the Metadata of ${r.source} — the stack then moves and nothing is destroyed`,
        addresses: r.addresses,
      }
    })
  },
}

/** One stack renamed across the fleet: what it would destroy, and where. */
interface Rename {
  readonly from: string
  readonly to: string
  /** The head stack file, where `MovedFrom` goes. */
  readonly source: string
  readonly addresses: string[]
  readonly protectedTypes: Map<string, number>
  targets: number
}

function stacksByAddress(stacks: readonly RenderedStack[] | undefined): Map<string, RenderedStack> {
  return new Map((stacks ?? []).map((s) => [s.address, s]))
}

/** `<account>/<region>` of a stack address: renames are matched within one region. */
function regionOf(stackAddress: string): string {
  return stackAddress.slice(0, stackAddress.lastIndexOf('/'))
}

/**
 * What identifies each resource of a stack regardless of the stack: its type and identifying
 * property values when the type has some (a zone's `Name`), else its type and logical id.
 */
function signatures(stack: RenderedStack): Map<string, string> {
  const template = toLongForm(stack.template) as {
    Resources?: Record<string, { Type?: unknown; Properties?: Record<string, unknown> }>
  }
  const out = new Map<string, string>()
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const type = typeof resource?.Type === 'string' ? resource.Type : 'Fn::ForEach'
    const identifying = awsResourceType(type)?.identifyingProperties ?? []
    const values = identifying.map((p) => resource.Properties?.[p]).filter((v) => v !== undefined)
    const signature = values.length > 0 ? `${type} ${JSON.stringify(values)}` : `${type} #${logicalId}`
    out.set(signature, logicalId)
  }
  return out
}
