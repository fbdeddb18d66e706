import { describe, expect, it } from 'vitest'
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts'
import { findEnclosingZone, InMemoryZones, normalizeName } from './dns-zones.ts'

function acme(): InMemoryZones {
  const zones = new InMemoryZones()
  zones.addZone('Acme.Example.org')
  return zones
}

describe('normalizeName', () => {
  it('lower-cases and adds exactly one trailing dot', () => {
    expect(normalizeName('WWW.Acme.example.org')).toBe('www.acme.example.org.')
    expect(normalizeName('www.acme.example.org.')).toBe('www.acme.example.org.')
    expect(normalizeName('')).toBe('.')
  })
})

describe('InMemoryZones', () => {
  it('creates a zone with an apex SOA and NS, like Route 53', () => {
    const zones = acme()
    expect(zones.zoneNames()).toEqual(['acme.example.org.'])
    const apex = zones.findZone('acme.example.org.')?.recordSetsAt('acme.example.org.')
    expect([...(apex?.keys() ?? [])].sort()).toEqual(['NS', 'SOA'])
    expect(() => zones.addZone('acme.example.org.')).toThrow(ConflictError)
  })

  it('upserts record sets case-insensitively and replaces them on update', () => {
    const zones = acme()
    zones.upsertRecordSet('acme.example.org', {
      name: 'Shop.ACME.example.org',
      type: 'A',
      ttl: 60,
      values: ['192.0.2.1'],
    })
    const first = zones.findZone('acme.example.org.')?.recordSetsAt('shop.acme.example.org.')?.get('A')
    zones.upsertRecordSet('ACME.example.org.', {
      name: 'shop.acme.example.org.',
      type: 'A',
      ttl: 30,
      values: ['192.0.2.2'],
    })
    const second = zones.findZone('acme.example.org.')?.recordSetsAt('shop.acme.example.org.')?.get('A')
    expect(first?.values).toEqual(['192.0.2.1'])
    expect(second).toEqual({ name: 'shop.acme.example.org.', type: 'A', ttl: 30, values: ['192.0.2.2'] })
    expect(second).not.toBe(first) // readers may cache by identity
    expect(Object.isFrozen(second)).toBe(true)
  })

  it('rejects bad record sets with the error kind that says why', () => {
    const zones = acme()
    const upsert =
      (input: Parameters<InMemoryZones['upsertRecordSet']>[1], zone = 'acme.example.org') =>
      () =>
        zones.upsertRecordSet(zone, input)
    expect(upsert({ name: 'a.other.org', type: 'A', ttl: 60, values: ['192.0.2.1'] })).toThrow(InputError)
    expect(upsert({ name: 'a.acme.example.org', type: 'A', ttl: 60, values: ['2001:db8::1'] })).toThrow(
      /IPv4/,
    )
    expect(upsert({ name: 'a.acme.example.org', type: 'AAAA', ttl: 60, values: ['192.0.2.1'] })).toThrow(
      /IPv6/,
    )
    expect(upsert({ name: 'a.acme.example.org', type: 'A', ttl: -1, values: ['192.0.2.1'] })).toThrow(/TTL/)
    expect(upsert({ name: 'a.acme.example.org', type: 'A', ttl: 60, values: [] })).toThrow(/at least one/)
    expect(upsert({ name: 'a.acme.example.org', type: 'CNAME', ttl: 60, values: ['x.', 'y.'] })).toThrow(
      /exactly one/,
    )
    expect(upsert({ name: 'a.acme.example.org', type: 'SOA', ttl: 60, values: ['a. b. 1 2 3 4 5'] })).toThrow(
      /apex/,
    )
    expect(
      upsert({ name: 'a.acme.example.org', type: 'A', ttl: 60, values: ['192.0.2.1'] }, 'nope.org'),
    ).toThrow(NotFoundError)
  })

  it('keeps a CNAME alone at its name', () => {
    const zones = acme()
    zones.upsertRecordSet('acme.example.org', {
      name: 'www.acme.example.org',
      type: 'A',
      ttl: 60,
      values: ['192.0.2.1'],
    })
    expect(() =>
      zones.upsertRecordSet('acme.example.org', {
        name: 'www.acme.example.org',
        type: 'CNAME',
        ttl: 60,
        values: ['x.org'],
      }),
    ).toThrow(ConflictError)
    zones.upsertRecordSet('acme.example.org', {
      name: 'alias.acme.example.org',
      type: 'CNAME',
      ttl: 60,
      values: ['X.org'],
    })
    expect(() =>
      zones.upsertRecordSet('acme.example.org', {
        name: 'alias.acme.example.org',
        type: 'TXT',
        ttl: 60,
        values: ['t'],
      }),
    ).toThrow(ConflictError)
    // replacing the CNAME itself is an update, not a conflict
    const updated = zones.upsertRecordSet('acme.example.org', {
      name: 'alias.acme.example.org',
      type: 'CNAME',
      ttl: 60,
      values: ['y.org'],
    })
    expect(updated.values).toEqual(['y.org.'])
  })

  it('reports empty non-terminals as existing names without records, until the name below goes', () => {
    const zones = acme()
    zones.upsertRecordSet('acme.example.org', {
      name: 'a.b.acme.example.org',
      type: 'TXT',
      ttl: 60,
      values: ['x'],
    })
    const zone = zones.findZone('acme.example.org.')!
    expect(zone.recordSetsAt('b.acme.example.org.')?.size).toBe(0)
    expect(zone.recordSetsAt('c.acme.example.org.')).toBeUndefined()
    expect(zones.deleteRecordSet('acme.example.org', 'A.B.acme.example.org', 'TXT')).toBe(true)
    expect(zones.deleteRecordSet('acme.example.org', 'a.b.acme.example.org', 'TXT')).toBe(false)
    expect(zone.recordSetsAt('a.b.acme.example.org.')).toBeUndefined()
    expect(zone.recordSetsAt('b.acme.example.org.')).toBeUndefined()
  })

  it('refuses to delete the apex SOA or NS', () => {
    const zones = acme()
    expect(() => zones.deleteRecordSet('acme.example.org', 'acme.example.org', 'SOA')).toThrow(InputError)
    expect(() => zones.deleteRecordSet('acme.example.org', 'acme.example.org', 'NS')).toThrow(InputError)
  })

  it('removes a zone with all its records', () => {
    const zones = acme()
    zones.upsertRecordSet('acme.example.org', {
      name: 'shop.acme.example.org',
      type: 'A',
      ttl: 60,
      values: ['192.0.2.1'],
    })
    expect(zones.removeZone('ACME.example.org')).toBe(true)
    expect(zones.removeZone('acme.example.org')).toBe(false)
    expect(zones.findZone('acme.example.org.')).toBeUndefined()
  })
})

describe('findEnclosingZone', () => {
  it('finds the most specific zone, and none outside every zone', () => {
    const zones = acme()
    zones.addZone('eu.acme.example.org')
    expect(findEnclosingZone(zones, 'shop.eu.acme.example.org.')?.name).toBe('eu.acme.example.org.')
    expect(findEnclosingZone(zones, 'shop.acme.example.org.')?.name).toBe('acme.example.org.')
    expect(findEnclosingZone(zones, 'acme.example.org.')?.name).toBe('acme.example.org.')
    expect(findEnclosingZone(zones, 'xacme.example.org.')).toBeUndefined()
    expect(findEnclosingZone(zones, '.')).toBeUndefined()
  })
})
