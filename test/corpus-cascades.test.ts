import { describe, expect, test } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { fleetState, type PlanOutcome, planFleet } from '../src/core/plan/plan-fleet.ts'
import { K8S_DIR, k8sFiles, read, slugOf } from './support/corpus.ts'
import { fixtureSource } from './support/fixture-fleet.ts'

/**
 * The Kubernetes cascades on real manifests written by others: every corpus file added as a
 * component and removed again plans without a cascade error, and one whose Namespace is removed
 * while its objects stay is refused at each of those objects.
 */
function load(files: Record<string, string>): Fleet {
  const result = loadFleet(fixtureSource(files))
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.fleet
}

function outcome(base: Fleet, head: Fleet): PlanOutcome {
  return planFleet({
    base: fleetState(base),
    head: fleetState(head),
    limits: { maxDeletes: 1000, maxShrinkPercent: 100 },
    protect: [],
  })
}

/** The documents of a multi-document text, as text, and the plain value of each. */
function documents(text: string): { text: string; value: Record<string, unknown> | null }[] {
  return parseAllDocuments(text).map((doc) => ({
    text: doc.toString(),
    value: doc.toJS() as Record<string, unknown> | null,
  }))
}

describe.each(k8sFiles)('cascades on the corpus: %s', (file) => {
  const path = `cluster/manifests/${slugOf(file)}/${file}`
  const text = read(K8S_DIR, file)
  const without = load({})
  const withFile = load({ [path]: text })

  test('added, then removed: valid, the removal all deletes', () => {
    expect(outcome(without, withFile).ok).toBe(true)
    const removed = outcome(withFile, without)
    if (!removed.ok) expect.fail(removed.errors.map(formatDiagnostic).join('\n'))
    const actions = new Set(removed.plan.targets.flatMap((t) => t.changes.map((c) => c.action)))
    expect(actions).toEqual(new Set(['delete']))
  })

  const docs = documents(text)
  const namespaces = docs
    .filter((d) => d.value?.kind === 'Namespace')
    .map((d) => String((d.value!.metadata as { name: string }).name))
  test.runIf(namespaces.length > 0)(
    'its Namespace removed while its objects stay: an error at each object in it',
    () => {
      const kept = docs.filter((d) => d.value?.kind !== 'Namespace').map((d) => d.text)
      const head = load({ [path]: kept.join('---\n') })
      const result = outcome(withFile, head)
      expect(result.ok).toBe(false)
      if (result.ok) return
      const inside = docs.filter((d) =>
        namespaces.includes(String((d.value?.metadata as { namespace?: string } | undefined)?.namespace)),
      )
      expect(result.errors).toHaveLength(inside.length)
      for (const error of result.errors) {
        expect(error.file).toBe(path)
        expect(error.rule).toBe('namespace-removal')
      }
    },
  )
})

describe('a real CustomResourceDefinition removed while a custom resource of it stays', () => {
  const crdFile = k8sFiles.find((f) => f.includes('prometheusruleCustomResourceDefinition'))!
  const crdPath = `cluster/manifests/crds/${crdFile}`
  const rule = `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: node-rules
  namespace: monitoring
spec:
  groups: []
`
  const rulePath = 'cluster/manifests/alerts/rules.yaml'

  test('is refused at the custom resource; removed together they are deletes', () => {
    const base = load({ [crdPath]: read(K8S_DIR, crdFile), [rulePath]: rule })
    const result = outcome(base, load({ [rulePath]: rule }))
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([
      expect.stringMatching(
        /^cluster\/manifests\/alerts\/rules\.yaml:1:1: PrometheusRule "node-rules" \(monitoring\.coreos\.com\/v1\) is still rendered, but no component renders its CustomResourceDefinition "prometheusrules\.monitoring\.coreos\.com" any more/,
      ),
    ])
    const both = outcome(base, load({}))
    expect(both.ok).toBe(true)
  })
})
