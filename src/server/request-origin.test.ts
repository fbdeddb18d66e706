import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { crossSiteReason, servedOverHttps } from './request-origin.ts'

/** What the two functions say about a request, with and without trusting a proxy. */
async function judge(url: string, headers: Record<string, string>, trustProxy: boolean) {
  const app = new Hono()
  app.get('*', (c) =>
    c.json({ https: servedOverHttps(c, trustProxy), crossSite: crossSiteReason(c, trustProxy) ?? null }),
  )
  return (await app.request(url, { headers })).json() as Promise<{ https: boolean; crossSite: string | null }>
}

describe('servedOverHttps', () => {
  it('believes the scheme of the request, and X-Forwarded-Proto only from a trusted proxy', async () => {
    expect((await judge('https://flotilla.example/', {}, false)).https).toBe(true)
    expect((await judge('http://127.0.0.1/', { 'x-forwarded-proto': 'https' }, false)).https).toBe(false)
    expect((await judge('http://127.0.0.1/', { 'x-forwarded-proto': 'https' }, true)).https).toBe(true)
    expect((await judge('http://127.0.0.1/', { 'x-forwarded-proto': 'HTTPS, http' }, true)).https).toBe(true)
    expect((await judge('http://127.0.0.1/', { 'x-forwarded-proto': 'http, https' }, true)).https).toBe(false)
    expect((await judge('http://127.0.0.1/', {}, true)).https).toBe(false)
  })
})

describe('crossSiteReason', () => {
  it('refuses another site by Sec-Fetch-Site or Origin; X-Forwarded-Host counts only from a trusted proxy', async () => {
    const url = 'http://127.0.0.1:8080/login'
    expect((await judge(url, {}, false)).crossSite).toBeNull()
    expect(
      (await judge(url, { origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }, false))
        .crossSite,
    ).toBeNull()
    expect((await judge(url, { 'sec-fetch-site': 'none' }, false)).crossSite).toBeNull()
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://127.0.0.1:8081' },
      { origin: 'null' },
      { origin: 'file://127.0.0.1:8080' },
      { origin: 'https://flotilla.example', 'x-forwarded-host': 'flotilla.example' },
    ])
      expect((await judge(url, headers, false)).crossSite, JSON.stringify(headers)).toMatch(/another site/)
    expect(
      (await judge(url, { origin: 'https://flotilla.example', 'x-forwarded-host': 'flotilla.example' }, true))
        .crossSite,
    ).toBeNull()
  })
})
