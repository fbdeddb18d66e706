/**
 * Applying one target: planned against its observed state at the application's clock, judged,
 * and applied through its provider when allowed (`operations/apply-target.ts` does the work).
 */
import { type ApplyTargetOptions, type ApplyTargetResult, applyTarget } from '../operations/apply-target.ts'
import type { Application } from './application.ts'

/** What applying a target takes: everything but what the application provides. */
export type ApplyRequest = Omit<ApplyTargetOptions, 'registry' | 'db' | 'clock'>

/** Applies one target (see the module comment). */
export async function applyTargetOf(app: Application, request: ApplyRequest): Promise<ApplyTargetResult> {
  return applyTarget({
    ...request,
    registry: app.registry,
    db: app.db,
    ...(app.clock ? { clock: app.clock } : {}),
  })
}
