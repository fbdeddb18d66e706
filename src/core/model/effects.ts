import type { FindingEffect } from './plan.ts'

/** How strong an effect is: deny stops a change, require-approval holds it, warn only tells. */
export const EFFECT_STRENGTH: Readonly<Record<FindingEffect, number>> = {
  warn: 0,
  'require-approval': 1,
  deny: 2,
}

/**
 * The built-in safety rules and the weakest effect each has. A policy file may name one to make
 * it stricter (`effect: deny` for `protected-destroy`), never weaker.
 */
export const BUILTIN_RULE_EFFECTS: Readonly<Record<string, FindingEffect>> = {
  'stack-rename': 'deny',
  'selection-shrink': 'require-approval',
  'protected-destroy': 'require-approval',
  'delete-budget': 'require-approval',
  'stage-move': 'require-approval',
  'policy-error': 'deny',
  'approval-mismatch': 'deny',
  drift: 'warn',
  'kubernetes-version': 'deny',
  'rotation-budget': 'warn',
  'governance-change': 'require-approval',
}

/** Built-in rules that are validation errors: there is nothing to make stricter. */
export const VALIDATION_RULES: readonly string[] = [
  'inventory-removal',
  'ops-segregation',
  'moved-from',
  'namespace-removal',
  'definition-removal',
  'cloudformation',
]

/** The stronger of two effects. */
export function strongest(a: FindingEffect, b: FindingEffect): FindingEffect {
  return EFFECT_STRENGTH[a] >= EFFECT_STRENGTH[b] ? a : b
}
