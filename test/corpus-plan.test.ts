import { describe, expect, test } from 'vitest'
import { evaluateStack } from '../src/core/cloudformation/evaluate-stack.ts'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { DesiredState, RenderedStack } from '../src/core/model/desired-state.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import type { Plan } from '../src/core/model/plan.ts'
import { STACK_TYPE } from '../src/core/plan/diff-stacks.ts'
import { fleetState, planFleet } from '../src/core/plan/plan-fleet.ts'
import type { FleetState } from '../src/core/policy/plan-context.ts'
import { awsResourceType, replacementOf } from '../src/core/resource-types/aws.ts'
import { CfnTag } from '../src/core/yaml/cfn-tags.ts'
import { cfnFiles, prepareTemplate } from './support/corpus.ts'
import { fixtureSource } from './support/fixture-fleet.ts'

/**
 * Every real template of the corpus planned twice: added to a fleet (every resource a `create`),
 * then with one property changed (an `update`, or a `replace` where the type's schema says the
 * property is immutable) — no crash, and no `unknown` where the registry knows the type.
 */
function load(files: Record<string, string>): Fleet {
  const result = loadFleet(fixtureSource(files))
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.fleet
}

function plan(base: FleetState, head: FleetState): Plan {
  const outcome = planFleet({ base, head, limits: { maxDeletes: 10, maxShrinkPercent: 10 }, protect: [] })
  if (!outcome.ok) expect.fail(outcome.errors.map(formatDiagnostic).join('\n'))
  return outcome.plan
}

/** The first resource with a plain string or number property of a known type, and that property. */
function pickProperty(stack: RenderedStack): { id: string; type: string; property: string } | undefined {
  const resources = (stack.template as { Resources: Record<string, { Type: unknown; Properties?: unknown }> })
    .Resources
  // A resource whose Condition is false for this account is not created: changing it changes nothing.
  const created = evaluateStack(stack).resources
  for (const [id, resource] of Object.entries(resources)) {
    if (!Object.hasOwn(created, id)) continue
    if (typeof resource?.Type !== 'string' || !awsResourceType(resource.Type)) continue
    const properties = resource.Properties
    if (properties === null || typeof properties !== 'object' || properties instanceof CfnTag) continue
    for (const [name, value] of Object.entries(properties)) {
      if (typeof value === 'string' || typeof value === 'number')
        return { id, type: resource.Type, property: name }
    }
  }
  return undefined
}

/** A deep copy that keeps short tags as {@link CfnTag}s (structuredClone would make them plain objects). */
function cloneKeepingTags(value: unknown): unknown {
  if (value instanceof CfnTag) return new CfnTag(value.tag, cloneKeepingTags(value.value))
  if (Array.isArray(value)) return value.map(cloneKeepingTags)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneKeepingTags(v)]))
  }
  return value
}

/** A copy of a fleet state in which one property of one resource of one stack has another value. */
function withChangedProperty(state: FleetState, address: string, id: string, property: string): FleetState {
  const desired = new Map<string, DesiredState>()
  for (const [targetId, d] of state.desired) {
    desired.set(targetId, {
      ...d,
      stacks: d.stacks.map((s) => {
        if (s.address !== address) return s
        const template = cloneKeepingTags(s.template) as {
          Resources: Record<string, { Properties: Record<string, unknown> }>
        }
        const resource = template.Resources[id]!
        const old = resource.Properties[property]
        resource.Properties[property] = typeof old === 'number' ? old + 1 : `${String(old)}-changed`
        return { ...s, template }
      }),
    })
  }
  return { ...state, desired }
}

describe.each(cfnFiles)('planning corpus template %s', (file) => {
  const prepared = prepareTemplate(file)
  const without = fleetState(load({}))
  const withStack = fleetState(load({ [`stacks/${prepared.stackName}.yaml`]: prepared.text }))

  test('added: every change is a create, nothing is protected-destroyed', () => {
    const p = plan(without, withStack)
    const changes = p.targets.flatMap((t) => t.changes)
    expect(changes.length).toBeGreaterThan(0)
    expect(new Set(changes.map((c) => c.action))).toEqual(new Set(['create']))
    expect(p.summary.protectedDestroyed).toBe(0)
    expect(p.findings.filter((f) => f.effect === 'deny')).toEqual([])
  })

  test('one property changed: update or replace, as the type’s schema says', () => {
    const stack = [...withStack.desired.values()]
      .flatMap((d) => d.stacks)
      .find((s) => s.stackName === prepared.stackName)!
    const picked = pickProperty(stack)
    if (!picked) return // a template whose known resources have no plain property to change
    const p = plan(withStack, withChangedProperty(withStack, stack.address, picked.id, picked.property))
    const all = p.targets.flatMap((t) => t.changes).filter((c) => c.type !== STACK_TYPE)
    const changes = all.filter((c) => c.address === `${stack.address}/${picked.id}`)
    expect(changes).toHaveLength(1)
    const [change] = changes
    // Anything else changes only because it reads a resource that is (or may be) replaced.
    for (const other of all.filter((c) => c !== change)) {
      expect(change!.action === 'replace' || change!.mayReplace === true, other.address).toBe(true)
      expect(
        other.properties.every((prop) => prop.unknown === true && (prop.dependsOn?.length ?? 0) > 0),
        other.address,
      ).toBe(true)
    }
    const expected = replacementOf(picked.type, [picked.property])
    expect(expected).not.toBe('unknown')
    expect(change!.properties).toEqual([
      expect.objectContaining({ path: picked.property, forcesReplacement: expected }),
    ])
    expect(change!.action).toBe(expected === true ? 'replace' : 'update')
    expect(change!.mayReplace === true).toBe(expected === 'conditional')
  })
})
