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
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isMap, isSeq, parseDocument } from 'yaml'

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
  const path = join(repo, 'rollout.yaml')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return { skippedGates: [], changed: false } // loading the revision reports it
  }
  const document = parseDocument(text)
  let changed = false
  const gates = document.get('gates')
  const typeOf = (name: string): string | undefined => {
    if (!isMap(gates)) return undefined
    const type = document.getIn(['gates', name, 'type'])
    return typeof type === 'string' ? type : undefined
  }
  const skipped = new Map<string, string>()
  const sections: (string | number)[][] = [['defaults']]
  const stages = document.get('stages')
  if (isSeq(stages))
    for (let index = 0; index < stages.items.length; index++) sections.push(['stages', index])
  for (const at of sections) {
    const bake = document.getIn([...at, 'bake'])
    if (bake !== undefined && bake !== '0s') {
      document.setIn([...at, 'bake'], '0s')
      changed = true
    }
    if (document.hasIn([...at, 'approval'])) {
      document.deleteIn([...at, 'approval'])
      changed = true
    }
    const list = document.getIn([...at, 'gates'])
    if (!isSeq(list)) continue
    const kept = list.items.filter((item) => {
      const name = String((item as { value?: unknown }).value ?? item)
      const type = typeOf(name.replace(/@trusted$/, ''))
      if (type === undefined || !OUTSIDE_GATE_TYPES.includes(type)) return true
      skipped.set(name, type)
      return false
    })
    if (kept.length !== list.items.length) {
      list.items = kept
      changed = true
    }
  }
  if (changed) writeFileSync(path, document.toString())
  return { skippedGates: [...skipped].map(([name, type]) => ({ name, type })), changed }
}
