/** The `prometheus` gate: an instant query judged by a CEL condition. */
import { type CompiledExpression, compileExpression, ExpressionError } from '../../core/expr/cel.ts'
import { targetVariable } from '../../core/render/contexts.ts'
import {
  describeValue,
  formatLocation,
  GateFailure,
  type GateOf,
  type GateRun,
  gateOf,
  isRecord,
  listSome,
  messageOf,
  networkErrorText,
  type Outcome,
  renderText,
  renderUrl,
  truncate,
} from './gate-run.ts'

/**
 * Runs an instant query (`GET <url>/api/v1/query?query=…`, the Prometheus HTTP API) and judges
 * its value with the gate's condition, where `result` is that value as a double. The query must
 * give exactly one finite number: a scalar, or a vector of one sample. No data (an empty
 * vector), several samples (aggregate them in the query: `sum(…)`, `max(…)`), NaN or ±Inf
 * (usually a division by zero without traffic), a range vector, an error status or an answer
 * that is not the API's JSON all fail.
 */
export async function checkPrometheus(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'prometheus')
  const base = renderUrl(run, 'url', gate.url)
  const query = renderText(run, 'query', gate.query)
  const endpoint = new URL(base)
  endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/api/v1/query`
  endpoint.searchParams.set('query', query)
  const where = `Prometheus at ${base}`
  let status: number
  let text: string
  try {
    const response = await fetch(endpoint, { signal: run.signal, headers: { accept: 'application/json' } })
    status = response.status
    text = await response.text()
  } catch (error) {
    throw new GateFailure(
      run.signal.aborted
        ? `the query to ${where} ${run.stopReason()}`
        : `cannot query ${where}: ${networkErrorText(error)}; a gate without its data source fails — check that Prometheus is up and reachable`,
    )
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new GateFailure(
      `${where} answered ${status} with something that is not the Prometheus API's JSON (${truncate(text.trim(), 120) || 'an empty body'}); check the gate's url`,
    )
  }
  const answer = isRecord(body) ? body : {}
  if (status !== 200 || answer.status !== 'success') {
    const why =
      typeof answer.error === 'string'
        ? `${String(answer.errorType ?? 'error')}: ${answer.error}`
        : `status ${String(answer.status)}`
    throw new GateFailure(
      `${where} answered ${status} to the query \`${query}\`: ${why}; check the query in Prometheus`,
    )
  }
  const value = sampleValue(answer.data, query)
  const warnings =
    Array.isArray(answer.warnings) && answer.warnings.length > 0
      ? ` (Prometheus warns: ${answer.warnings.map(String).join('; ')})`
      : ''
  const condition = conditionOf(gate)
  let verdict: unknown
  try {
    verdict = condition.evaluate({ result: value, target: targetVariable(run.target) })
  } catch (error) {
    throw new GateFailure(
      `the condition \`${condition.source}\` could not be evaluated with result = ${value}: ${messageOf(error)}; fix it in rollout.yaml (${formatLocation(gate.at)})`,
    )
  }
  if (typeof verdict !== 'boolean') {
    throw new GateFailure(
      `the condition \`${condition.source}\` gave ${describeValue(verdict)} with result = ${value}, not true or false; fix it in rollout.yaml (${formatLocation(gate.at)})`,
    )
  }
  return {
    passed: verdict,
    detail: `result = ${value}, so \`${condition.source}\` is ${verdict}${warnings}${verdict ? '' : `; the query was \`${query}\``}`,
  }
}

/** The one finite number an instant query's `data` holds, or a {@link GateFailure} saying why not. */
function sampleValue(data: unknown, query: string): number {
  const d = isRecord(data) ? data : {}
  let raw: unknown
  if (d.resultType === 'scalar') {
    raw = Array.isArray(d.result) ? d.result[1] : undefined
  } else if (d.resultType === 'vector' && Array.isArray(d.result)) {
    const samples: unknown[] = d.result
    if (samples.length === 0) {
      throw new GateFailure(
        `the query \`${query}\` returned no data (an empty vector): the metric may not exist for this target yet, or has no samples; a gate without data fails`,
      )
    }
    if (samples.length > 1) {
      const series = samples.map((s) => JSON.stringify(isRecord(s) ? (s.metric ?? {}) : s))
      throw new GateFailure(
        `the query \`${query}\` returned ${samples.length} series (${listSome(series, 3)}), but the condition judges one number; aggregate it in the query (sum(…), max(…))`,
      )
    }
    const sample = samples[0]
    raw = isRecord(sample) && Array.isArray(sample.value) ? sample.value[1] : undefined
  } else {
    throw new GateFailure(
      `the query \`${query}\` returned ${typeof d.resultType === 'string' ? `a ${d.resultType}` : 'no result type'}, not an instant vector or scalar; write an instant query that gives one number`,
    )
  }
  if (typeof raw !== 'string') {
    throw new GateFailure(`the answer to \`${query}\` has no sample value where the Prometheus API puts it`)
  }
  const value = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(value)) {
    throw new GateFailure(
      `the query \`${query}\` returned ${raw}, not a finite number (NaN or ±Inf usually mean a division by zero where there is no traffic)`,
    )
  }
  return value
}

/** The compiled condition; a gate built by hand (not by the loader) gets it compiled here. */
function conditionOf(gate: GateOf<'prometheus'>): CompiledExpression {
  if (gate.compiledCondition) return gate.compiledCondition.expression
  const compiled = compileExpression(gate.condition, 'gate-condition')
  if (compiled instanceof ExpressionError) {
    throw new GateFailure(`the condition \`${gate.condition}\` is not valid CEL: ${compiled.message}`)
  }
  return compiled
}
