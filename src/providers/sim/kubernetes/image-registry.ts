import type { SimDb } from '../sim-database.ts'

/** Kubernetes minor versions the example fleet runs (the cluster autoscaler's tag follows them). */
const AUTOSCALER_MINORS = [28, 29, 30, 31, 32, 33, 34]

/** Repositories of the built-in images and their tags. */
export const BUILT_IN_IMAGES: Readonly<Record<string, readonly string[]>> = {
  'registry.k8s.io/coredns/coredns': ['v1.11.3'],
  'registry.k8s.io/external-dns/external-dns': ['v0.15.0', 'v0.15.1'],
  'registry.k8s.io/ingress-nginx/controller': ['v1.11.3', 'v1.12.1'],
  'quay.io/prometheus/node-exporter': ['v1.8.2', 'v1.9.0'],
  'registry.k8s.io/kube-state-metrics/kube-state-metrics': ['v2.13.0', 'v2.15.0'],
  'registry.k8s.io/metrics-server/metrics-server': ['v0.7.2'],
  'registry.k8s.io/autoscaling/cluster-autoscaler': AUTOSCALER_MINORS.map((minor) => `v1.${minor}.0`),
  'registry.k8s.io/pause': ['3.10'],
}

/**
 * An image reference in its full form, as registries resolve it: `nginx` is
 * `docker.io/library/nginx:latest`, `quay.io/x/y` is `quay.io/x/y:latest`; a digest is kept.
 */
export function normalizeImage(reference: string): string {
  const trimmed = reference.trim()
  const [name, digest] = trimmed.split('@') as [string, string | undefined]
  const slash = name.indexOf('/')
  const first = slash < 0 ? '' : name.slice(0, slash)
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost'
  let full = hasRegistry ? name : `docker.io/${slash < 0 ? `library/${name}` : name}`
  const lastSlash = full.lastIndexOf('/')
  if (!full.slice(lastSlash + 1).includes(':') && digest === undefined) full = `${full}:latest`
  return digest === undefined ? full : `${full}@${digest}`
}

/** The images the registry has: a set of normalized references. */
export class ImageRegistry {
  private readonly images: ReadonlySet<string>

  constructor(pushed: Iterable<string> = []) {
    const all = new Set<string>()
    for (const [repository, tags] of Object.entries(BUILT_IN_IMAGES))
      for (const tag of tags) all.add(normalizeImage(`${repository}:${tag}`))
    for (const reference of pushed) all.add(normalizeImage(reference))
    this.images = all
  }

  /** Whether a node can pull the image. */
  has(reference: string): boolean {
    return this.images.has(normalizeImage(reference))
  }
}

/** The registry with what has been pushed to it. */
export async function loadImageRegistry(db: SimDb): Promise<ImageRegistry> {
  const rows = await db.selectFrom('sim_images').select('reference').execute()
  return new ImageRegistry(rows.map((r) => r.reference))
}

/** Pushes images (normalized); returns them as stored. */
export async function pushImages(db: SimDb, references: readonly string[]): Promise<string[]> {
  const normalized = [...new Set(references.map(normalizeImage))]
  if (normalized.length === 0) return []
  await db
    .insertInto('sim_images')
    .values(normalized.map((reference) => ({ reference })))
    .onConflict((oc) => oc.column('reference').doNothing())
    .execute()
  return normalized
}

/** The images pushed to the registry (besides its built-in ones), sorted. */
export async function pushedImages(db: SimDb): Promise<string[]> {
  const rows = await db.selectFrom('sim_images').select('reference').orderBy('reference').execute()
  return rows.map((r) => r.reference)
}
