import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ConflictError, ProviderError, type ProviderErrorCode } from '../core/errors.ts'
import type { Provider } from '../core/provider/port.ts'
import { errorResponse } from './error-response.ts'

/** A route that asks a provider whose health check fails with `code`, as a real route would. */
function appOver(code: ProviderErrorCode): { app: Hono; logs: string[] } {
  const provider: Pick<Provider, 'health'> = {
    health: async (target) => {
      throw new ProviderError(code, target.id, 'DescribeStacks failed', `${target.id}/network`)
    },
  }
  const logs: string[] = []
  const app = new Hono()
  const route = async (c: import('hono').Context) =>
    c.json(await provider.health({ id: 'acct-1' } as Parameters<Provider['health']>[0]))
  app.get('/api/health', route)
  app.post('/targets/health', route)
  app.onError((error, c) => errorResponse(c, error, (line) => logs.push(line)))
  return { app, logs }
}

describe('errorResponse: a provider failure', () => {
  const cases: [ProviderErrorCode, number, string | null][] = [
    ['throttled', 503, '10'],
    ['unavailable', 503, '30'],
    ['busy', 503, '60'],
    ['refused', 409, null],
    ['invalid', 400, null],
  ]
  it.each(cases)(
    '%s: the API answers %i (Retry-After %s) with one line saying what to do',
    async (code, status, retryAfter) => {
      const { app, logs } = appOver(code)
      const response = await app.request('/api/health')
      expect(response.status).toBe(status)
      expect(response.headers.get('retry-after')).toBe(retryAfter)
      const body = (await response.json()) as { error: string }
      expect(Object.keys(body)).toEqual(['error'])
      expect(body.error).toMatch(/^target acct-1 \(acct-1\/network\): DescribeStacks failed; \S/)
      expect(body.error).not.toContain('\n')
      expect(body.error).not.toMatch(/internal error|bug in Flotilla/)
      expect(logs).toEqual([])
    },
  )

  it('the portal answers the same status and Retry-After, as text', async () => {
    const response = await appOver('throttled').app.request('/targets/health', { method: 'POST' })
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('10')
    expect(await response.text()).toMatch(/^target acct-1 .*try again in a minute$/)
  })
})

describe('errorResponse: the rest', () => {
  it('keeps 409 for a conflict, without Retry-After, and 500 with an id for a bug', async () => {
    const logs: string[] = []
    const app = new Hono()
    app.get('/api/conflict', () => {
      throw new ConflictError('held by r-1')
    })
    app.get('/api/bug', () => {
      throw new TypeError('oops')
    })
    app.onError((error, c) => errorResponse(c, error, (line) => logs.push(line)))
    const conflict = await app.request('/api/conflict')
    expect([conflict.status, conflict.headers.get('retry-after'), await conflict.json()]).toEqual([
      409,
      null,
      { error: 'held by r-1' },
    ])
    const bug = await app.request('/api/bug')
    expect(bug.status).toBe(500)
    expect(((await bug.json()) as { error: string }).error).toMatch(
      /^internal error [0-9a-f]{8}: a bug in Flotilla/,
    )
    expect(logs).toEqual([expect.stringMatching(/^error [0-9a-f]{8} on GET \/api\/bug: TypeError: oops/)])
  })
})
