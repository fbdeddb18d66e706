/**
 * Edits of a scratch clone's `rollout.yaml`, section by section (`defaults`, then each stage),
 * keeping its comments and layout: the drill sets its bakes to 0, `flotilla test` does that and
 * more. Only for scratch clones: the user's repository is never written.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Document, isSeq, parseDocument } from 'yaml'

/** Edits one section at path `at` of `document`; says whether it changed anything. */
export type SectionEdit = (document: Document, at: readonly (string | number)[]) => boolean

/**
 * Applies `edit` to `defaults` and every stage of `repo`'s `rollout.yaml` and writes the file when
 * anything changed; says whether it did. A missing file is left to loading the revision to report.
 */
export function editRolloutSections(repo: string, edit: SectionEdit): boolean {
  const path = join(repo, 'rollout.yaml')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return false
  }
  const document = parseDocument(text)
  const sections: (string | number)[][] = [['defaults']]
  const stages = document.get('stages')
  if (isSeq(stages))
    for (let index = 0; index < stages.items.length; index++) sections.push(['stages', index])
  let changed = false
  for (const at of sections) changed = edit(document, at) || changed
  if (changed) writeFileSync(path, document.toString())
  return changed
}

/**
 * Sets the section's `bake` to `0s`: the simulator does not degrade while a stage bakes, so waiting
 * would make a drill or a test slower, never different.
 */
export const zeroBake: SectionEdit = (document, at) => {
  const bake = document.getIn([...at, 'bake'])
  if (bake === undefined || bake === '0s') return false
  document.setIn([...at, 'bake'], '0s')
  return true
}
