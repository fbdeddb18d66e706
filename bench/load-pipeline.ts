import { parseAllDocuments } from 'yaml'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { FleetSource } from '../src/core/model/source.ts'
import { readRevisionSource } from '../src/source/git.ts'

/** The full pipeline of `flotilla validate --rev`: read a revision, load, validate, render every target. */
export async function fullPipeline(repo: string, rev = 'HEAD'): Promise<number> {
  const result = loadFleet(await readRevisionSource(repo, rev))
  if (!result.ok) throw new Error(`the benchmark fleet is invalid: ${result.errors[0]?.message}`)
  return result.fleet.targets.length
}

/** The baseline: parsing every YAML file of the revision with the yaml package, nothing more. */
export function parseOnly(source: FleetSource): number {
  let documents = 0
  for (const [path, text] of source.files) {
    if (!/\.ya?ml$/.test(path)) continue
    for (const doc of parseAllDocuments(text) as ReturnType<typeof parseAllDocuments> & unknown[]) {
      doc.toJS()
      documents++
    }
  }
  return documents
}
