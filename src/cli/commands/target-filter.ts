import { InputError } from '../../core/errors.ts'
import { compileExpression, ExpressionError } from '../../core/expr/cel.ts'
import type { Fleet, Target } from '../../core/model/fleet-model.ts'
import { fleetVariable, targetVariable } from '../../core/render/contexts.ts'
import { findInvisibleCharacters, invisibleCharacterMessage } from '../../core/yaml/characters.ts'
import { findConfusableWords } from '../../core/yaml/confusables.ts'

/**
 * Compiles `plan --target`, a CEL expression over `target` and `fleet`, once, and returns the
 * filter it stands for. Every way the expression can be wrong is a user error ({@link InputError},
 * exit 1) that quotes it: an invisible or look-alike character (pasted from chat, a selector
 * that would silently select nothing), a syntax or type error with its column, and an error
 * while evaluating it for one target (`target.config.nonexistent`, a failed conversion), which
 * names the target and how to guard the expression.
 */
export function targetFilter(source: string, head: Fleet): (target: Target) => boolean {
  const quoted = `--target ${JSON.stringify(source)}`
  const characters = [
    ...findInvisibleCharacters(source).map((found) => ({
      offset: found.offset,
      message: invisibleCharacterMessage(found),
    })),
    ...findConfusableWords(source),
  ].sort((a, b) => a.offset - b.offset)
  if (characters.length > 0) {
    const [first] = characters
    throw new InputError(`${quoted}: at column ${first!.offset + 1}: ${first!.message}`)
  }
  const compiled = compileExpression(source, 'stage-select')
  if (compiled instanceof ExpressionError) {
    throw new InputError(`${quoted}: ${compiled.message} (at column ${compiled.offset + 1})`)
  }
  const fleet = fleetVariable(head.settings)
  return (target) => {
    let selected: unknown
    try {
      selected = compiled.evaluate({ target: targetVariable(target), fleet })
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error
      const column = error.offset > 0 ? ` (at column ${error.offset + 1})` : ''
      const guard = /No such key/.test(error.message)
        ? '; a field or key that not every target has needs a guard, e.g. has(target.config.name) && target.config.name == 1, or "key" in target.tags && …'
        : '; it must give true or false for every target: guard the part that fails'
      throw new InputError(`${quoted}: ${error.message}${column}, for target ${target.id}${guard}`, [], {
        cause: error,
      })
    }
    if (typeof selected !== 'boolean')
      throw new InputError(`${quoted} must be true or false, not ${String(selected)}`)
    return selected
  }
}
