/**
 * Where the simulated fleet keeps its tables: a PostgreSQL schema of its own beside the control
 * plane's, so nothing of the control plane can query them by accident (they are not in
 * `Database`, and not on its `search_path`).
 */

/**
 * The simulated fleet's schema for a control plane in `controlPlaneSchema`: `sim` beside `public`,
 * `<schema>_sim` beside any other — two installations (or test suites) that share a database
 * through separate schemas keep separate simulated fleets too.
 *
 * @example simSchemaName('public') // 'sim'
 * @example simSchemaName('flotilla') // 'flotilla_sim'
 */
export function simSchemaName(controlPlaneSchema: string): string {
  return controlPlaneSchema === 'public' ? 'sim' : `${controlPlaneSchema}_sim`
}
