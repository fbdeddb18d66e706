/** The `health` gate: the provider's own view of the target's health. */
import type { Provider } from '../../core/provider/port.ts'
import { untilAborted } from '../../lib/abortable.ts'
import { GateFailure, type GateRun, listSome, messageOf, type Outcome } from './gate-run.ts'

export async function checkHealth(run: GateRun): Promise<Outcome> {
  const { provider } = run.environment
  let health: Awaited<ReturnType<Provider['health']>>
  try {
    // Stop waiting at the deadline even if the provider does not honour the signal (the call
    // may then finish unobserved).
    health = await untilAborted(provider.health(run.target, { signal: run.signal }), run.signal)
  } catch (error) {
    if (run.signal.aborted)
      throw new GateFailure(`the ${provider.name} provider's health check ${run.stopReason()}`)
    const retryable = (error as { retryable?: unknown }).retryable === true
    throw new GateFailure(
      `the ${provider.name} provider could not report health: ${messageOf(error)}${retryable ? ' (a passing problem: retry the target)' : ''}`,
    )
  }
  const failing = health.checks.filter((c) => !c.healthy)
  if (failing.length > 0) {
    return {
      passed: false,
      detail: `unhealthy: ${failing.map((c) => `${c.name}: ${c.detail}`).join('; ')}; fix these on the target (or wait until it settled) and retry`,
    }
  }
  if (!health.healthy) {
    return {
      passed: false,
      detail: `the ${provider.name} provider reports the target unhealthy without naming a failing check; look at the target in the provider`,
    }
  }
  const names = health.checks.map((c) => c.name)
  return {
    passed: true,
    detail: `healthy (${names.length} ${names.length === 1 ? 'check' : 'checks'}: ${listSome(names)})`,
  }
}
