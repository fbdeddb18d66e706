import { describe, expect, it } from 'vitest'
import { DEFAULT_NEXT, sameSitePath } from './redirects.ts'

describe('sameSitePath', () => {
  it.each([
    '//evil.example',
    '/\\evil.example',
    '\\/evil.example',
    'https://evil.example',
    'javascript:alert(1)',
    'data:text/html,hi',
    '/%5Cevil.example',
    '/%2f%2fevil.example',
    '/%25252F%25252Fevil.example',
    '/%2525252525252Fx',
    '/\t/evil.example',
    '/\r\n/evil.example',
    '/%E0%A4%A',
    '/.//evil.example',
    '/a/../..//evil.example',
    '/é',
    '',
    undefined,
    `/${'a'.repeat(2048)}`,
  ])('refuses %j', (next) => {
    expect(sameSitePath(next)).toBe(DEFAULT_NEXT)
  })

  it.each([
    ['/rollouts', '/rollouts'],
    ['/plans?rev=feature%2Fx&approve=a%2Fb', '/plans?rev=feature%2Fx&approve=a%2Fb'],
    ['/accounts?q=foo%20bar', '/accounts?q=foo%20bar'],
    ['/rollouts/r-20261125-3f9a1c#live', '/rollouts/r-20261125-3f9a1c#live'],
    ['/./audit', '/audit'],
  ])('keeps %j', (next, expected) => {
    expect(sameSitePath(next)).toBe(expected)
  })
})
