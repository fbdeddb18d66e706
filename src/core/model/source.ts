/** Where a fleet repository's files were read from. */
export type SourceRef =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'revision'; readonly ref: string; readonly commit: string }

/**
 * The files of a fleet repository at one point in time, fully in memory: a directory's working
 * tree or one git revision. Paths are repository-relative with `/` separators. Two sources are
 * independent values, so any number of revisions can be loaded side by side.
 */
export interface FleetSource {
  readonly ref: SourceRef
  readonly files: ReadonlyMap<string, string>
  /**
   * Names of every top-level entry of the repository, directories with a trailing `/`, so that a
   * misspelt folder (`polices/`) is reported instead of silently read as "no policies".
   */
  readonly topLevel: readonly string[]
}

/** The top-level files and folders Flotilla reads; everything else in the repository is ignored. */
export const FLEET_ROOTS = [
  'fleet.yaml',
  'fleet.yml',
  'rollout.yaml',
  'rollout.yml',
  'inventory',
  'stacks',
  'cluster',
  'policies',
] as const

/** Whether a repository-relative path is one Flotilla reads. */
export function isFleetPath(path: string): boolean {
  return FLEET_ROOTS.some((root) => path === root || path.startsWith(`${root}/`))
}

/** A source built from files in memory, for tests and for generated repositories. */
export function memorySource(
  files: Record<string, string> | ReadonlyMap<string, string>,
  path = '(memory)',
): FleetSource {
  const map = files instanceof Map ? files : new Map(Object.entries(files))
  return {
    ref: { kind: 'directory', path },
    files: new Map([...map].filter(([p]) => isFleetPath(p))),
    topLevel: topLevelOf(map.keys()),
  }
}

/** Describes a source for messages: `HEAD~1 (3f2a9c1)` or the directory path. */
export function describeSource(ref: SourceRef): string {
  return ref.kind === 'revision' ? `${ref.ref} (${ref.commit.slice(0, 7)})` : ref.path
}

/** The top-level entries that a list of repository-relative file paths implies. */
export function topLevelOf(paths: Iterable<string>): string[] {
  const names = new Set<string>()
  for (const path of paths) {
    const slash = path.indexOf('/')
    names.add(slash < 0 ? path : path.slice(0, slash + 1))
  }
  return [...names].sort()
}
