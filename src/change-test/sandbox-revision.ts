/**
 * A revision made fit for the ephemeral fleet of `flotilla test`, in the test's scratch clone:
 * - bakes are 0: the simulated fleet does not degrade while a stage waits, so waiting would make
 *   the test slower, never different;
 * - stage approvals are taken out: nobody is there to give them, and the test asks whether the
 *   change works, not whether it is allowed (`flotilla plan` says that, with the policies);
 * - policy files are taken out for the same reason;
 * - `prometheus` and `http` gates are left out of the stages: they ask the real fleet's monitoring
 *   and services, which know nothing of the ephemeral copy. They are reported as not run.
 * The same rewrite is made to the base and the head, so it is not part of the change tested.
 */
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { isSeq } from 'yaml'
import { editRolloutSections, zeroBake } from '../drill/rollout-edits.ts'

/** Gate types that look at the real fleet from outside, not at the ephemeral one. */
export const OUTSIDE_GATE_TYPES: readonly string[] = ['prometheus', 'http']

/** What {@link sandboxRevision} changed. */
export interface SandboxChanges {
  /** Gates left out of the stages, with why. */
  readonly skippedGates: readonly { readonly name: string; readonly type: string }[]
  readonly changed: boolean
}

/** Rewrites the working tree of `repo` (see the module comment). */
export function sandboxRevision(repo: string): SandboxChanges {
  const policies = removePolicies(repo)
  const rollout = rewriteRollout(repo)
  return { skippedGates: rollout.skippedGates, changed: policies || rollout.changed }
}

function removePolicies(repo: string): boolean {
  const dir = join(repo, 'policies')
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return false
  }
  const files = names.filter((name) => /\.ya?ml$/.test(name))
  for (const name of files) rmSync(join(dir, name))
  return files.length > 0
}

function rewriteRollout(repo: string): SandboxChanges {
  const skipped = new Map<string, string>()
  const changed = editRolloutSections(repo, (document, at) => {
    const baked = zeroBake(document, at)
    const approval = document.hasIn([...at, 'approval'])
    if (approval) document.deleteIn([...at, 'approval'])
    const list = document.getIn([...at, 'gates'])
    if (!isSeq(list)) return baked || approval
    const kept = list.items.filter((item) => {
      const name = String((item as { value?: unknown }).value ?? item)
      const type = document.getIn(['gates', name.replace(/@trusted$/, ''), 'type'])
      if (typeof type !== 'string' || !OUTSIDE_GATE_TYPES.includes(type)) return true
      skipped.set(name, type)
      return false
    })
    const dropped = kept.length !== list.items.length
    if (dropped) list.items = kept
    return baked || approval || dropped
  })
  return { skippedGates: [...skipped].map(([name, type]) => ({ name, type })), changed }
}
