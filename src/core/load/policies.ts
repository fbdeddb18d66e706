import type { DiagnosticSink } from '../diagnostics.ts'
import type { LoadedPolicyRule } from '../model/fleet-model.ts'
import { policyFileSchema } from '../model/policy.ts'
import { compileLocatedExpression } from '../render/compile.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import { checkSchema } from './schema-check.ts'

/** Loads every `policies/*.yaml` rule with its compiled condition; names are unique fleet-wide. */
export function loadPolicies(docs: readonly ParsedDocument[], sink: DiagnosticSink): LoadedPolicyRule[] {
  const rules: LoadedPolicyRule[] = []
  const byName = new Map<string, LoadedPolicyRule>()
  for (const doc of docs) {
    const file = checkSchema(policyFileSchema, doc, sink)
    if (!file) continue
    file.forEach((rule, i) => {
      const at = doc.locate([i])
      const first = byName.get(rule.name)
      if (first) {
        sink.error(
          doc.locate([i, 'name']),
          'duplicate-id',
          `duplicate policy name "${rule.name}" (first at ${first.at.file}:${first.at.line}:${first.at.col})`,
        )
        return
      }
      const place = rule.scope === 'plan' ? 'policy-plan' : 'policy-change'
      const condition = compileLocatedExpression(rule.when, doc, [i, 'when'], place, sink)
      if (!condition) return
      const loaded = { ...rule, condition, at }
      byName.set(rule.name, loaded)
      rules.push(loaded)
    })
  }
  return rules
}
