import type { Random } from './random.ts'

/**
 * Business domains of a large online retailer, one product team each. None of them is the name of
 * a platform namespace (`monitoring`, `ingress-nginx`, …), because every team gets a namespace
 * named after it in its clusters.
 */
const DOMAINS = [
  'checkout',
  'payments',
  'search',
  'catalog',
  'pricing',
  'recommendations',
  'fulfillment',
  'logistics',
  'identity',
  'loyalty',
  'reviews',
  'notifications',
  'fraud-detection',
  'returns',
  'warehouse',
  'shipping',
  'marketing',
  'advertising',
  'content',
  'media',
  'customer-care',
  'onboarding',
  'subscriptions',
  'invoicing',
  'accounting',
  'tax',
  'partner-portal',
  'merchant',
  'seller-tools',
  'product-data',
  'size-advice',
  'styling',
  'wishlist',
  'cart',
  'delivery-promise',
  'order-management',
  'stock',
  'sourcing',
  'buying',
  'planning',
  'forecasting',
  'personalization',
  'experimentation',
  'growth',
  'mobile-app',
  'web-shop',
  'api-gateway',
  'consent',
  'privacy',
  'authentication',
  'customer-profile',
  'gift-cards',
  'vouchers',
  'campaigns',
  'newsletter',
  'affiliate',
  'translations',
  'assortment',
  'imaging',
  'video',
  'chat',
  'feedback',
  'analytics',
  'data-lake',
] as const

/** Second words for sub-teams, once every domain has a team of its own. */
const FACETS = [
  'api',
  'platform',
  'core',
  'insights',
  'ingestion',
  'ranking',
  'mobile',
  'web',
  'partner',
  'b2b',
  'realtime',
  'tooling',
  'foundation',
  'experience',
  'integration',
  'quality',
  'automation',
  'streaming',
] as const

const FIRST_NAMES = [
  'alice',
  'bob',
  'carla',
  'dmitri',
  'elena',
  'farid',
  'greta',
  'hiro',
  'ines',
  'jonas',
  'kemal',
  'lena',
  'mateo',
  'nina',
  'oskar',
  'priya',
  'quinn',
  'rosa',
  'samir',
  'tara',
  'ugo',
  'vera',
  'wei',
  'ximena',
  'yusuf',
  'zoe',
  'anton',
  'bianca',
  'chen',
  'dana',
  'emil',
  'fatima',
  'gustav',
  'hanna',
  'igor',
  'julia',
  'kofi',
  'lars',
  'maya',
  'nils',
  'olga',
  'pablo',
  'rania',
  'sven',
  'tomas',
  'uma',
  'viktor',
  'wanda',
  'yara',
  'zeynep',
] as const

const LAST_NAMES = [
  'schmidt',
  'novak',
  'garcia',
  'kowalski',
  'rossi',
  'jensen',
  'silva',
  'tanaka',
  'okafor',
  'meyer',
  'dubois',
  'nielsen',
  'petrov',
  'yilmaz',
  'haddad',
  'fischer',
  'larsen',
  'moreau',
  'kim',
  'singh',
  'weber',
  'costa',
  'ivanova',
  'bauer',
  'hansen',
  'lopez',
  'nowak',
  'wagner',
  'becker',
  'santos',
  'hoffmann',
  'martin',
  'horvat',
  'koch',
  'romano',
  'lindqvist',
  'sato',
  'mensah',
  'kaya',
  'popescu',
] as const

/** Words written in capitals in display names. */
const ACRONYMS: Readonly<Record<string, string>> = { api: 'API', b2b: 'B2B' }

/**
 * `count` distinct team ids: every domain first (in a seeded order), then `<domain>-<facet>`
 * sub-teams, which is how a company that outgrows one team per domain names the new ones.
 */
export function teamIds(count: number, random: Random): string[] {
  const domains = random.shuffle(DOMAINS)
  const ids: string[] = domains.slice(0, count)
  if (ids.length === count) return ids
  const subTeams = random.shuffle(domains.flatMap((domain) => FACETS.map((facet) => `${domain}-${facet}`)))
  for (let i = 0; ids.length < count; i++) {
    // Past every combination (over a thousand teams), number them: `checkout-api-2`.
    const round = Math.floor(i / subTeams.length)
    const base = subTeams[i % subTeams.length]!
    ids.push(round === 0 ? base : `${base}-${round + 1}`)
  }
  return ids
}

/** A team's display name: `fraud-detection` → `Fraud Detection`, `search-api` → `Search API`. */
export function displayName(id: string): string {
  return id
    .split('-')
    .map((word) => ACRONYMS[word] ?? `${word.charAt(0).toUpperCase()}${word.slice(1)}`)
    .join(' ')
}

/**
 * Hands out user names (`alice.schmidt`), each at most once, so that every person is in exactly
 * one team — which is what access-control examples need to be unambiguous.
 */
export function createPeople(random: Random): () => string {
  const used = new Set<string>()
  return () => {
    for (;;) {
      const candidate = `${random.pick(FIRST_NAMES)}.${random.pick(LAST_NAMES)}`
      const name = used.has(candidate) ? `${candidate}${used.size}` : candidate
      if (!used.has(name)) {
        used.add(name)
        return name
      }
    }
  }
}
