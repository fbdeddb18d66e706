/** The `http` gate: the status of a GET. */
import { GateFailure, type GateRun, gateOf, networkErrorText, type Outcome, renderUrl } from './gate-run.ts'

/** How much of an unexpected HTTP answer a result keeps. */
const HTTP_EXCERPT_BYTES = 2_048

/**
 * GETs the rendered URL; passes when the status equals `expectStatus`. Redirects are not
 * followed: the status compared is the URL's own answer (expect 301 to check a redirect).
 */
export async function checkHttp(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'http')
  const url = renderUrl(run, 'url', gate.url)
  const expected = gate.expectStatus
  let response: Response
  try {
    response = await fetch(url, { signal: run.signal, redirect: 'manual' })
  } catch (error) {
    throw new GateFailure(
      run.signal.aborted
        ? `GET ${url} ${run.stopReason()}`
        : `GET ${url} failed: ${networkErrorText(error)}; check that the service is up and reachable from here`,
    )
  }
  if (response.status === expected) {
    await response.body?.cancel().catch(() => {})
    return { passed: true, detail: `GET ${url} answered ${response.status}` }
  }
  const excerpt = await bodyExcerpt(response)
  return {
    passed: false,
    detail: `GET ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}, expected ${expected}; check the service at that URL`,
    ...(excerpt ? { output: excerpt } : {}),
  }
}

/** The first {@link HTTP_EXCERPT_BYTES} of a body, or '' when it cannot be read (in time). */
async function bodyExcerpt(response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let length = 0
  try {
    while (length < HTTP_EXCERPT_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      length += value.length
    }
  } catch {
    // The deadline or a broken connection: keep what arrived.
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks).subarray(0, HTTP_EXCERPT_BYTES).toString('utf8')
}
