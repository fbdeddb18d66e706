import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LoadCache } from '../src/core/load/load-cache.ts'
import { type LoadResult, loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import type { Plan } from '../src/core/model/plan.ts'
import type { FleetSource } from '../src/core/model/source.ts'
import { fleetState, planFleet } from '../src/core/plan/plan-fleet.ts'
import { policyRegistry } from '../src/core/policy/policy-rules.ts'
import { git, readRevisionSource } from '../src/source/git.ts'
import { FLOTILLA_GIT_IDENTITY } from './git-identity.ts'

/** Commits an edit of one file of the repository on a new branch from main; returns the branch. */
export async function commitEdit(
  repo: string,
  branch: string,
  path: string,
  edit: (text: string) => string,
): Promise<string> {
  await git(repo, ['checkout', '-q', '-B', branch, 'main'])
  const file = join(repo, path)
  const before = readFileSync(file, 'utf8')
  const after = edit(before)
  if (after === before) throw new Error(`the benchmark edit of ${path} changed nothing`)
  writeFileSync(file, after)
  await git(repo, ['commit', '-q', '-am', branch], undefined, FLOTILLA_GIT_IDENTITY)
  await git(repo, ['checkout', '-q', 'main'])
  return branch
}

function valid(result: LoadResult) {
  if (!result.ok) throw new Error(`the benchmark fleet is invalid: ${result.errors[0]?.message}`)
  return result.fleet
}

/** `flotilla plan --base main --head BRANCH` without printing: read both revisions, load both, plan. */
export async function offlinePlan(repo: string, head: string): Promise<Plan> {
  const cache = new LoadCache()
  const [baseSource, headSource] = await Promise.all([
    readRevisionSource(repo, 'main'),
    readRevisionSource(repo, head),
  ])
  return planSources(baseSource, headSource, cache)
}

/** Loads and plans two in-memory revisions with a shared cache. */
export function planSources(base: FleetSource, head: FleetSource, cache: LoadCache): Plan {
  return planLoaded(valid(loadFleet(base, { cache })), valid(loadFleet(head, { cache })))
}

function planLoaded(baseFleet: Fleet, headFleet: Fleet): Plan {
  const outcome = planFleet({
    base: fleetState(baseFleet),
    head: fleetState(headFleet),
    limits: headFleet.settings.limits,
    protect: headFleet.settings.protect,
  })
  if (!outcome.ok) throw new Error('the benchmark plan is invalid')
  return outcome.plan
}

/**
 * The incremental part of a plan: the base is loaded already (as in a long-running server or a
 * second plan in one process); this loads the head with the base's cache and plans.
 */
export function warmPlan(base: FleetSource, head: FleetSource): () => Plan {
  const cache = new LoadCache()
  const baseFleet = valid(loadFleet(base, { cache }))
  return () => planLoaded(baseFleet, valid(loadFleet(head, { cache })))
}

/**
 * The cost of deployment policy on a plan: the same plan computed with the built-in rules only
 * and with the repository's policies too, both on already loaded revisions. Returns both times.
 */
export function policyCost(
  base: FleetSource,
  head: FleetSource,
): { builtinOnly: () => Plan; withPolicies: () => Plan } {
  const cache = new LoadCache()
  const baseFleet = valid(loadFleet(base, { cache }))
  const headFleet = valid(loadFleet(head, { cache }))
  const input = {
    base: fleetState(baseFleet),
    head: fleetState(headFleet),
    limits: headFleet.settings.limits,
    protect: headFleet.settings.protect,
    now: new Date('2026-11-10T10:00:00Z'),
  }
  const run = (rules?: ReturnType<typeof policyRegistry>) => {
    const outcome = planFleet(rules ? { ...input, rules } : input)
    if (!outcome.ok) throw new Error('the benchmark plan is invalid')
    return outcome.plan
  }
  return { builtinOnly: () => run(), withPolicies: () => run(policyRegistry(headFleet)) }
}
