import { resolve } from 'node:path'
import type { Fleet } from '../../core/model/fleet-model.ts'
import type { Plan } from '../../core/model/plan.ts'
import { renderPlanText } from '../../core/plan/render-text.ts'
import { withApplication } from '../application.ts'
import type { ApplyOptions } from '../declarations.ts'
import { findTarget, readApprovals, refuseNow } from '../inputs.ts'
import type { CliIo } from '../io.ts'
import { cliOperator } from '../operator.ts'
import { loadValidFleet } from '../repository.ts'
import { cliTrust } from '../trust.ts'
import { trustNote } from '../trust-note.ts'

/** The revision a loaded fleet came from, as recorded with what is applied. */
export function revisionOf(fleet: Fleet): string {
  return fleet.source.kind === 'revision' ? fleet.source.commit : 'working-tree'
}

/**
 * `flotilla apply --target ID`: plans one target against its observed state, checks the plan
 * with the safety rules, policies (at this machine's clock) and approvals, and applies it through
 * the target's provider. Exit 0 when applied (or nothing to do), 3 when the plan is denied or
 * needs approvals (nothing is applied) or the provider failed, 1 for bad input and when refused
 * by the fleet-wide stop or a rollout holding the target.
 */
export async function applyCommand(options: ApplyOptions, io: CliIo): Promise<number> {
  refuseNow('apply', options.now)
  const repo = options.repo ? { repo: options.repo } : {}
  const { fleet } = await loadValidFleet(
    { ...repo, ...(options.rev ? { rev: options.rev } : {}) },
    io.cwd,
    'head',
  )
  const target = findTarget(fleet, options.target)
  const approvals = await readApprovals(options, io.cwd)
  const { trusted } = await cliTrust(options.repo, io.cwd, fleet, [fleet])
  return withApplication(options, io, async (app) => {
    const text = options.format !== 'json'
    const result = await app.applyTarget({
      head: fleet,
      target,
      revision: revisionOf(fleet),
      approvals,
      ...(trusted ? { trusted } : {}),
      actor: cliOperator(io).actor,
      ...(options.timeout !== undefined ? { timeoutMs: options.timeout * 1000 } : {}),
      ...(text
        ? {
            onPlan: (plan: Plan) => {
              if (plan.verdict !== 'no-changes') io.stdout(renderPlanText(plan, { color: io.isTTY }))
            },
            onEvent: (event) => io.stderr(`  ${event.address}: ${event.message}\n`),
            onRetry: (message) => io.stderr(`  ${message}\n`),
          }
        : {}),
    })
    // No server judged who applies it or whether the revision was merged: say which trust was used.
    if (result.outcome === 'applied' || result.outcome === 'failed')
      io.stderr(`${await trustNote(resolve(io.cwd, options.repo ?? '.'), fleet, 'applied')}\n`)
    if (!text) {
      io.stdout(
        `${JSON.stringify(
          {
            target: target.id,
            outcome: result.outcome,
            ...(result.reason ? { reason: result.reason } : {}),
            verdict: result.plan.verdict,
            operations: result.report?.operations ?? [],
            snapshots: result.report?.snapshots ?? [],
            ...(result.health ? { health: result.health } : {}),
            plan: result.plan,
          },
          null,
          2,
        )}\n`,
      )
    } else {
      switch (result.outcome) {
        case 'no-changes':
          io.stdout(`${target.id} (${target.name}) is up to date: nothing to apply.\n`)
          break
        case 'blocked':
          io.stdout(`Not applied: ${result.reason}\n`)
          break
        case 'failed':
          io.stdout(`Apply of ${target.id} (${target.name}) failed: ${result.reason}\n`)
          break
        case 'applied': {
          const ops = result.report?.operations.length ?? 0
          io.stdout(
            `Applied ${ops} ${ops === 1 ? 'operation' : 'operations'} to ${target.id} (${target.name}).\n`,
          )
          for (const snapshot of result.report?.snapshots ?? []) {
            io.stdout(`Snapshot ${snapshot.id} taken of ${snapshot.address}: ${snapshot.description}\n`)
          }
          const health = result.health
          if (health) {
            io.stdout(`Health: ${health.healthy ? 'healthy' : 'UNHEALTHY'}\n`)
            for (const check of health.checks)
              io.stdout(`  ${check.healthy ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`)
          }
        }
      }
    }
    return result.outcome === 'applied' || result.outcome === 'no-changes' ? 0 : 3
  })
}
