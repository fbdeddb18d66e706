import type { DiagnosticSink } from '../diagnostics.ts'
import { BUILTIN_RULE_EFFECTS, EFFECT_STRENGTH, VALIDATION_RULES } from '../model/effects.ts'
import type { BuiltinOverride, LoadedPolicyRule } from '../model/fleet-model.ts'
import { policyFileSchema } from '../model/policy.ts'
import { compileLocatedExpression } from '../render/compile.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import { checkSchema } from './schema-check.ts'

/** The rules of the policy files, and the built-in rules they make stricter. */
export interface LoadedPolicies {
  readonly rules: LoadedPolicyRule[]
  readonly overrides: BuiltinOverride[]
}

/**
 * Loads every `policies/*.yaml` rule with its compiled condition; names are unique fleet-wide.
 * An entry named after a built-in safety rule makes it stricter; one that would make it weaker,
 * or switch it off, is a validation error: the safety rules are always on.
 */
export function loadPolicies(docs: readonly ParsedDocument[], sink: DiagnosticSink): LoadedPolicies {
  const rules: LoadedPolicyRule[] = []
  const overrides: BuiltinOverride[] = []
  const byName = new Map<string, { at: LoadedPolicyRule['at'] }>()
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
      byName.set(rule.name, { at })
      if (VALIDATION_RULES.includes(rule.name)) {
        sink.error(
          doc.locate([i, 'name']),
          'builtin-weakened',
          `"${rule.name}" is a validation rule of Flotilla's: it is always an error and cannot be changed by a policy`,
        )
        return
      }
      const builtin = BUILTIN_RULE_EFFECTS[rule.name]
      if (builtin !== undefined) {
        if (rule.when !== undefined) {
          sink.error(
            doc.locate([i, 'when']),
            'builtin-weakened',
            `"${rule.name}" is a built-in safety rule and always on; a policy may only give it a stricter effect, so remove "when"`,
          )
        } else if (EFFECT_STRENGTH[rule.effect] < EFFECT_STRENGTH[builtin]) {
          sink.error(
            doc.locate([i, 'effect']),
            'builtin-weakened',
            `policies may make the built-in rule "${rule.name}" stricter, never weaker: its effect is ${builtin}, so "${rule.effect}" is not allowed (use ${builtin === 'deny' ? 'deny' : `${builtin} or deny`})`,
          )
        } else {
          overrides.push({ name: rule.name, effect: rule.effect, at })
        }
        return
      }
      if (rule.when === undefined) {
        sink.error(
          at,
          'missing-key',
          `missing required key "when" (the CEL condition of policy "${rule.name}")`,
        )
        return
      }
      const place = rule.scope === 'plan' ? 'policy-plan' : 'policy-change'
      const condition = compileLocatedExpression(rule.when, doc, [i, 'when'], place, sink)
      if (!condition) return
      rules.push({ ...rule, condition, at })
    })
  }
  return { rules, overrides }
}
