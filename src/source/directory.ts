import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { NotFoundError } from '../core/errors.ts'
import { FLEET_ROOTS, type FleetSource } from '../core/model/source.ts'

/**
 * Reads a fleet repository's working tree from a directory. Only the paths Flotilla reads are
 * visited; symbolic links are not followed (a revision could not hold what they point to either).
 */
export async function readDirectorySource(dir: string): Promise<FleetSource> {
  const files = new Map<string, string>()
  let found = false
  for (const root of FLEET_ROOTS) {
    const entries = await walk(dir, root)
    if (entries.length > 0) found = true
    for (const path of entries) files.set(path, await readFile(join(dir, path), 'utf8'))
  }
  if (!found) {
    throw new NotFoundError(
      `${dir}: not a fleet repository (no fleet.yaml, inventory/ or stacks/); run "flotilla init ${dir} --example" to create one, or pass --repo DIR`,
    )
  }
  const topLevel = (await readdir(dir, { withFileTypes: true }))
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
    .sort()
  return {
    ref: { kind: 'directory', path: dir },
    files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))),
    topLevel,
  }
}

async function walk(dir: string, relative: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(join(dir, relative), { withFileTypes: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') return [relative]
    if (code === 'ENOENT') return []
    throw error
  }
  const out: string[] = []
  for (const entry of entries) {
    const path = `${relative}/${entry.name}`
    if (entry.isDirectory()) out.push(...(await walk(dir, path)))
    else if (entry.isFile()) out.push(path)
  }
  return out
}
