import type { DiagnosticSink } from '../diagnostics.ts'
import type { LoadedGate, LoadedRollout, LoadedStage } from '../model/fleet-model.ts'
import { rolloutSchema } from '../model/rollout.ts'
import type { TemplateNode } from '../model/template-node.ts'
import { compileLocatedExpression, compileTemplate } from '../render/compile.ts'
import { didYouMean } from '../suggest.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import { checkSchema } from './schema-check.ts'

/** Gate fields that may hold `{{ }}` templates, rendered per target when the gate runs. */
export const GATE_TEMPLATE_FIELDS = ['names', 'run', 'url', 'query'] as const

/** Loads `rollout.yaml`: stages with compiled selectors, gates with compiled templates. */
export function loadRollout(doc: ParsedDocument, sink: DiagnosticSink): LoadedRollout | undefined {
  const spec = checkSchema(rolloutSchema, doc, sink)
  if (!spec) return undefined
  const errorsBefore = sink.errors.length
  const gateNames = Object.keys(spec.gates)
  const used = new Set<string>()
  const seen = new Map<string, number>()
  const stages: LoadedStage[] = []
  spec.stages.forEach((stage, i) => {
    const first = seen.get(stage.name)
    if (first !== undefined) {
      sink.error(
        doc.locate(['stages', i, 'name']),
        'duplicate-id',
        `duplicate stage name "${stage.name}" (first is stage ${first + 1})`,
      )
    }
    seen.set(stage.name, i)
    stage.gates?.forEach((gate, g) => {
      used.add(gate)
      if (!Object.hasOwn(spec.gates, gate)) {
        sink.error(
          doc.locate(['stages', i, 'gates', g]),
          'broken-reference',
          `stage "${stage.name}" uses gate "${gate}", which is not defined under gates${didYouMean(gate, gateNames)}${gateNames.length ? ` (defined: ${gateNames.join(', ')})` : ''}`,
        )
      }
    })
    checkWaves(stage.waves, doc, i, sink)
    const selector = compileLocatedExpression(
      stage.select,
      doc,
      ['stages', i, 'select'],
      'stage-select',
      sink,
    )
    if (selector) stages.push({ ...stage, selector, at: doc.locate(['stages', i]) })
  })
  const gates: Record<string, LoadedGate> = {}
  for (const [name, gate] of Object.entries(spec.gates)) {
    const at = doc.locate(['gates', name])
    if (!used.has(name))
      sink.warn(doc.locateKey(['gates', name]), 'unused-gate', `gate "${name}" is not used by any stage`)
    const templates: Record<string, TemplateNode> = {}
    for (const field of GATE_TEMPLATE_FIELDS) {
      if (field in gate) {
        const value = (gate as Record<string, unknown>)[field]
        templates[field] = compileTemplate(value, doc, ['gates', name, field], 'gate-template', sink)
      }
    }
    const condition =
      gate.type === 'prometheus'
        ? compileLocatedExpression(gate.condition, doc, ['gates', name, 'condition'], 'gate-condition', sink)
        : undefined
    gates[name] = { ...gate, at, templates, ...(condition ? { compiledCondition: condition } : {}) }
  }
  if (sink.errors.length > errorsBefore) return undefined
  return { defaults: spec.defaults, stages, gates }
}

/** Waves are cumulative: each at least as large as the one before, the last reaching every target. */
function checkWaves(
  waves: readonly (number | string)[] | undefined,
  doc: ParsedDocument,
  stage: number,
  sink: DiagnosticSink,
): void {
  if (!waves) return
  let lastPercent = 0
  let lastCount = 0
  waves.forEach((wave, w) => {
    const at = doc.locate(['stages', stage, 'waves', w])
    if (typeof wave === 'number') {
      if (wave < lastCount)
        sink.error(
          at,
          'invalid-value',
          `wave ${w + 1} (${wave}) is smaller than the wave before it; waves are cumulative`,
        )
      lastCount = wave
    } else {
      const percent = Number(wave.slice(0, -1))
      if (percent < lastPercent)
        sink.error(
          at,
          'invalid-value',
          `wave ${w + 1} (${wave}) is smaller than the wave before it; waves are cumulative`,
        )
      lastPercent = percent
    }
  })
  if (waves.at(-1) !== '100%') {
    sink.error(
      doc.locate(['stages', stage, 'waves', waves.length - 1]),
      'invalid-value',
      'the last wave must be 100% so that the stage reaches every target it selects',
    )
  }
}
