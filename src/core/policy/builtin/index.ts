import { governanceChange } from '../governance.ts'
import { RuleRegistry } from '../rules.ts'
import { kubernetesVersion, rotationBudget } from './cluster-updates.ts'
import { deleteBudget } from './delete-budget.ts'
import { drift } from './drift.ts'
import { protectedDestroy } from './protected-destroy.ts'
import { selectionShrink } from './selection-shrink.ts'
import { stackRename } from './stack-rename.ts'
import { stageMove } from './stage-move.ts'

/** The built-in safety rules, always on, in the order their findings are listed. */
export function builtinRules(): RuleRegistry {
  return new RuleRegistry()
    .register(stackRename)
    .register(selectionShrink)
    .register(protectedDestroy)
    .register(deleteBudget)
    .register(stageMove)
    .register(drift)
    .register(kubernetesVersion)
    .register(rotationBudget)
    .register(governanceChange)
}
