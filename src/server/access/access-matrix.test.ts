import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  ACCESS_MATRIX_MARKERS,
  ACCESS_MATRIX_PAGE,
  documentedRoutes,
  renderAccessMatrix,
  withAccessMatrix,
} from './access-matrix.ts'
import { ACCESS_LEVELS, CALLERS, mayCall, ROUTE_ACCESS } from './route-access.ts'

describe('the access matrix', () => {
  test(`${ACCESS_MATRIX_PAGE} shows the current matrix (run "npm run schema" if not)`, () => {
    const page = readFileSync(new URL(`../../../${ACCESS_MATRIX_PAGE}`, import.meta.url), 'utf8')
    expect(page).toContain(ACCESS_MATRIX_MARKERS.start)
    expect(page).toBe(withAccessMatrix(page))
  })

  test('the table has one entry per operation of the OpenAPI document', () => {
    expect(Object.keys(ROUTE_ACCESS).sort()).toEqual(documentedRoutes().sort())
    expect(documentedRoutes()).toContain('POST /api/unstop')
  })

  test('a row per route, a column per caller; a refused caller is a ✗ and only admins act for others', () => {
    const rows = renderAccessMatrix()
      .split('\n')
      .filter((line) => line.startsWith('| `'))
    expect(rows).toHaveLength(Object.keys(ROUTE_ACCESS).length)
    const unstop = rows.find((row) => row.startsWith('| `POST /api/unstop`'))!
    expect(
      unstop
        .split('|')
        .slice(2, 2 + CALLERS.length)
        .map((c) => c.trim()),
    ).toEqual(['✗', '✗', '✗', '✗', '✗', '✓', '✓'])
    for (const access of ACCESS_LEVELS) {
      if (access !== 'anyone') expect(mayCall(access, 'anonymous', true)).toBe(false)
      expect(mayCall(access, 'admin')).toBe(true)
    }
    expect(CALLERS.filter((caller) => mayCall('self-or-admin', caller))).toEqual(['admin'])
    expect(CALLERS.filter((caller) => mayCall('owner', caller))).toEqual(['owning-team', 'admin', 'elevated'])
  })

  test('a page without the markers is an error naming them', () => {
    expect(() => withAccessMatrix('# a page\n')).toThrow(ACCESS_MATRIX_MARKERS.start)
  })
})
