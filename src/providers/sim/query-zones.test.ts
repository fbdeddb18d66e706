import { describe, expect, it } from 'vitest'
import { queryZones } from './dns-server.ts'
import { InMemoryZones } from './dns-zones.ts'

/** A zone with what external-dns publishes for a cluster's ingress, and names beside it. */
function zones(): InMemoryZones {
  const z = new InMemoryZones()
  z.addZone('teapot.example.org')
  const put = (name: string, type: 'A' | 'TXT' | 'CNAME', values: string[]) =>
    z.upsertRecordSet('teapot.example.org', { name, type, ttl: 300, values })
  put('*.kube-1.teapot.example.org', 'A', ['203.0.113.10'])
  put('*.kube-1.teapot.example.org', 'TXT', ['heritage=external-dns,external-dns/owner=kube-1'])
  put('admin.kube-1.teapot.example.org', 'A', ['192.0.2.1'])
  put('notes.kube-1.teapot.example.org', 'TXT', ['only text here'])
  put('deep.inner.kube-1.teapot.example.org', 'A', ['192.0.2.2'])
  put('alias.teapot.example.org', 'CNAME', ['shop.kube-1.teapot.example.org'])
  return z
}

describe('wildcard answers through queryZones', () => {
  it('answers a name that does not exist from the wildcard at its closest encloser', () => {
    const z = zones()
    expect(queryZones(z, 'shop.kube-1.teapot.example.org')).toEqual({
      rcode: 'NOERROR',
      answers: ['203.0.113.10'],
    })
    expect(queryZones(z, 'SHOP.Kube-1.teapot.example.org.')).toEqual({
      rcode: 'NOERROR',
      answers: ['203.0.113.10'],
    })
    expect(queryZones(z, 'shop.kube-1.teapot.example.org', 'TXT')).toEqual({
      rcode: 'NOERROR',
      answers: ['heritage=external-dns,external-dns/owner=kube-1'],
    })
    // More than one label below the closest encloser still matches (RFC 4592 §2.2.1).
    expect(queryZones(z, 'a.b.kube-1.teapot.example.org').answers).toEqual(['203.0.113.10'])
  })

  it('says NODATA for a type the wildcard does not have', () => {
    expect(queryZones(zones(), 'shop.kube-1.teapot.example.org', 'AAAA')).toEqual({
      rcode: 'NOERROR',
      answers: [],
    })
  })

  it('follows a CNAME into a wildcard name', () => {
    expect(queryZones(zones(), 'alias.teapot.example.org')).toEqual({
      rcode: 'NOERROR',
      answers: ['shop.kube-1.teapot.example.org', '203.0.113.10'],
    })
  })

  it('does not override a name that exists, whatever types it has', () => {
    const z = zones()
    expect(queryZones(z, 'admin.kube-1.teapot.example.org').answers).toEqual(['192.0.2.1'])
    // `notes` exists with TXT only: an A query is NODATA, not the wildcard's address.
    expect(queryZones(z, 'notes.kube-1.teapot.example.org')).toEqual({ rcode: 'NOERROR', answers: [] })
  })

  it('does not override an empty non-terminal, nor answer below it without a wildcard there', () => {
    const z = zones()
    // `inner.kube-1` exists only because `deep.inner.kube-1` does: NODATA.
    expect(queryZones(z, 'inner.kube-1.teapot.example.org')).toEqual({ rcode: 'NOERROR', answers: [] })
    // Its closest encloser is `inner.kube-1`, which has no wildcard: the name does not exist.
    expect(queryZones(z, 'other.inner.kube-1.teapot.example.org')).toEqual({ rcode: 'NXDOMAIN', answers: [] })
  })

  it('answers NXDOMAIN where no wildcard covers the name, and REFUSED outside every zone', () => {
    const z = zones()
    expect(queryZones(z, 'shop.teapot.example.org')).toEqual({ rcode: 'NXDOMAIN', answers: [] })
    expect(queryZones(z, 'shop.kube-2.teapot.example.org')).toEqual({ rcode: 'NXDOMAIN', answers: [] })
    expect(queryZones(z, 'shop.kube-1.other.example.org')).toEqual({ rcode: 'REFUSED', answers: [] })
  })

  it('uses a wildcard at the apex for names directly below it', () => {
    const z = zones()
    z.upsertRecordSet('teapot.example.org', {
      name: '*.teapot.example.org',
      type: 'A',
      ttl: 60,
      values: ['198.51.100.1'],
    })
    expect(queryZones(z, 'anything.teapot.example.org').answers).toEqual(['198.51.100.1'])
    expect(queryZones(z, 'shop.kube-1.teapot.example.org').answers).toEqual(['203.0.113.10'])
    expect(queryZones(z, 'teapot.example.org')).toEqual({ rcode: 'NOERROR', answers: [] })
  })

  it('stops answering once the wildcard is deleted', () => {
    const z = zones()
    z.deleteRecordSet('teapot.example.org', '*.kube-1.teapot.example.org', 'A')
    z.deleteRecordSet('teapot.example.org', '*.kube-1.teapot.example.org', 'TXT')
    expect(queryZones(z, 'shop.kube-1.teapot.example.org').rcode).toBe('NXDOMAIN')
  })
})
