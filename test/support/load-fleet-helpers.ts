import { expect } from 'vitest'
import { formatDiagnostic } from '../../src/core/diagnostics.ts'
import { type LoadResult, loadFleet } from '../../src/core/load/load-fleet.ts'
import type { Fleet } from '../../src/core/model/fleet-model.ts'
import { BASE_FILES, fixtureSource } from './fixture-fleet.ts'

/** Overrides for {@link fixtureSource}: a path's new text, or `null` to delete it. */
export type Overrides = Readonly<Record<string, string | null>>

/**
 * A base fixture file with one piece of text replaced. The piece must occur exactly once, so that
 * a change to the fixture breaks the test loudly instead of making it test nothing.
 */
export function edit(path: string, from: string, to: string): Record<string, string> {
  const text = BASE_FILES[path]
  if (text === undefined) throw new Error(`no fixture file ${path}`)
  const count = text.split(from).length - 1
  if (count !== 1) throw new Error(`${JSON.stringify(from)} occurs ${count} times in ${path}, not once`)
  return { [path]: text.replace(from, to) }
}

/** Loads the fixture fleet with `overrides` and expects it to be invalid; returns the result. */
export function loadInvalid(overrides: Overrides): Extract<LoadResult, { ok: false }> {
  const result = loadFleet(fixtureSource(overrides))
  expect(result.ok, 'expected the fleet to be invalid').toBe(false)
  if (result.ok) throw new Error('unreachable')
  expect(result).not.toHaveProperty('fleet')
  return result
}

/** The errors of an invalid fixture fleet, each formatted as `file:line:col: message`. */
export function errorsFor(overrides: Overrides): string[] {
  return loadInvalid(overrides).errors.map(formatDiagnostic)
}

/** Loads the fixture fleet with `overrides` and expects it to be valid; fails with every error otherwise. */
export function loadValid(overrides: Overrides = {}): { fleet: Fleet; warnings: string[] } {
  const result = loadFleet(fixtureSource(overrides))
  if (!result.ok)
    expect.fail(`expected a valid fleet, got:\n${result.errors.map(formatDiagnostic).join('\n')}`)
  return { fleet: result.fleet, warnings: result.warnings.map(formatDiagnostic) }
}
