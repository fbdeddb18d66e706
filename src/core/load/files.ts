import { closest } from '../suggest.ts'

/** What a file of the fleet repository is, decided by its path alone. */
export type FileRole =
  | {
      readonly role:
        | 'fleet'
        | 'teams'
        | 'accounts'
        | 'clusters'
        | 'stack'
        | 'config-defaults'
        | 'policy'
        | 'policy-test'
        | 'rollout'
    }
  | { readonly role: 'component-settings' | 'manifest'; readonly component: string }
  | { readonly role: 'ignored' }
  | { readonly role: 'unexpected'; readonly suggestion: string | undefined }

const SINGLE_FILES: Record<string, FileRole> = {
  'fleet.yaml': { role: 'fleet' },
  'rollout.yaml': { role: 'rollout' },
  'inventory/teams.yaml': { role: 'teams' },
  'inventory/accounts.yaml': { role: 'accounts' },
  'inventory/clusters.yaml': { role: 'clusters' },
  'cluster/config-defaults.yaml': { role: 'config-defaults' },
}

const KNOWN_LAYOUT = [
  ...Object.keys(SINGLE_FILES),
  'inventory/accounts/<name>.yaml',
  'inventory/clusters/<name>.yaml',
  'stacks/<name>.yaml',
  'policies/<name>.yaml',
  'cluster/manifests/<component>/<name>.yaml',
]

/**
 * Classifies a repository path. YAML files in a place Flotilla does not know are errors, not
 * silently skipped: `inventory/acounts.yaml` must not mean "no accounts".
 */
export function classifyPath(path: string): FileRole {
  if (!/\.ya?ml$/.test(path)) return { role: 'ignored' }
  const normal = path.replace(/\.yml$/, '.yaml')
  const single = SINGLE_FILES[normal]
  if (single) return single
  const parts = normal.split('/')
  if (
    parts.length === 3 &&
    parts[0] === 'inventory' &&
    (parts[1] === 'accounts' || parts[1] === 'clusters')
  ) {
    return { role: parts[1] }
  }
  if (parts.length === 2 && parts[0] === 'stacks') return { role: 'stack' }
  if (parts.length === 2 && parts[0] === 'policies') return { role: 'policy' }
  if (parts.length === 3 && parts[0] === 'policies' && parts[1] === 'tests') return { role: 'policy-test' }
  if (parts.length === 4 && parts[0] === 'cluster' && parts[1] === 'manifests') {
    const component = parts[2]!
    return parts[3] === 'component.yaml'
      ? { role: 'component-settings', component }
      : { role: 'manifest', component }
  }
  return { role: 'unexpected', suggestion: closest(normal, Object.keys(SINGLE_FILES)) }
}

/** The repository layout, for messages about unexpected files. */
export function describeLayout(): string {
  return KNOWN_LAYOUT.join(', ')
}
