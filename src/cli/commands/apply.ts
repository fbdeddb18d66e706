import { userInfo } from 'node:os'
import type { Fleet } from '../../core/model/fleet-model.ts'
import type { Plan } from '../../core/plan/plan-model.ts'
import { renderPlanText } from '../../core/plan/render-text.ts'
import { applyTarget } from '../../operations/apply-target.ts'
import { openFleetStore } from '../fleet-store.ts'
import type { CliIo } from '../io.ts'
import { loadValidFleet } from '../repository.ts'
import { parseNow, readApprovals } from './plan.ts'
import { findTarget } from './render.ts'

export interface ApplyOptions {
  readonly repo?: string
  readonly data?: string
  readonly target: string
  readonly rev?: string
  readonly approve?: readonly string[]
  readonly approvals?: string
  readonly now?: string
  /** Seconds to wait for the target to settle. */
  readonly timeout?: number
  readonly format?: 'text' | 'json'
}

/** Who runs a command, for the audit log. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

/** The revision a loaded fleet came from, as recorded with what is applied. */
export function revisionOf(fleet: Fleet): string {
  return fleet.source.kind === 'revision' ? fleet.source.commit : 'working-tree'
}

/**
 * `flotilla apply --target ID`: plans one target against its observed state, checks the plan
 * with the safety rules, policies and approvals, and applies it through the target's provider.
 * Exit 0 when applied (or nothing to do), 3 when the plan is denied or needs approvals (nothing
 * is applied) or the provider failed, 1 for bad input.
 */
export async function applyCommand(options: ApplyOptions, io: CliIo): Promise<number> {
  const repo = options.repo ? { repo: options.repo } : {}
  const { fleet } = await loadValidFleet(
    { ...repo, ...(options.rev ? { rev: options.rev } : {}) },
    io.cwd,
    'head',
  )
  const target = findTarget(fleet, options.target)
  const approvals = await readApprovals(options, io.cwd)
  const now = options.now === undefined ? undefined : parseNow(options.now)
  const opened = await openFleetStore(options, io.cwd)
  try {
    await opened.sim.seed(fleet.targets, fleet.clusters)
    const text = options.format !== 'json'
    const result = await applyTarget({
      head: fleet,
      target,
      registry: opened.registry,
      db: opened.store.db,
      revision: revisionOf(fleet),
      approvals,
      actor: cliActor(),
      ...(now ? { now } : {}),
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
  } finally {
    await opened.close()
  }
}
