/**
 * Stopping the server's rollout worker ends a settle under way within a second: the signal every
 * run gets (`EngineDeps.signal`) aborts, the worker waits for the run to return, and a run cut
 * short is not reported as a failure. The run here is a step that waits on a provider whose
 * `settled` never settles, honouring the signal as the providers do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { untilStopped } from '../src/cli/until-stopped.ts'
import type { Target } from '../src/core/model/fleet-model.ts'
import type { CallOptions, SettleStatus } from '../src/core/provider/port.ts'
import { startRolloutWorker, WorkerStopped } from '../src/server/rollout-worker.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import {
  commitAll,
  type EngineHarness,
  editRollout,
  exampleRepo,
  openEngine,
  quickStages,
} from './support/rollout-fleet.ts'

/** `settled` of a provider whose target never settles: in progress until the call's signal aborts. */
function neverSettles(_target: Target, _onEvent?: unknown, options: CallOptions = {}): Promise<SettleStatus> {
  return new Promise((_resolve, reject) => {
    const { signal } = options
    if (signal?.aborted) return reject(signal.reason)
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

describe.each(testBackends)('stopping the rollout worker, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let dispose = () => {}
  let engine: EngineHarness
  let base: string

  beforeAll(async () => {
    let repo: string
    ;({ repo, dispose } = await exampleRepo())
    editRollout(repo, quickStages)
    base = await commitAll(repo, 'Rollouts without bakes')
    engine = await openEngine(repo, testStore.store.db, { seedCommit: base })
  })

  afterAll(async () => {
    await engine?.close()
    dispose()
  })

  it('ends a settle that never settles within a second, and reports nothing', async () => {
    const id = await engine.start(base)
    const reported: unknown[] = []
    let settling: () => void = () => {}
    const settleStarted = new Promise<void>((resolve) => {
      settling = resolve
    })
    const runs: string[] = []
    const worker = startRolloutWorker(engine.deps, (error) => reported.push(error), {
      run: async (deps, rolloutId) => {
        runs.push(rolloutId)
        settling()
        await neverSettles({ id: 'acct-1' } as Target, undefined, deps.signal ? { signal: deps.signal } : {})
      },
    })
    worker.kick()
    await settleStarted
    const started = Date.now()
    await worker.stop()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(runs).toEqual([id])
    expect(reported).toEqual([])
  })

  it('reports a run that fails on its own, not the stop', async () => {
    const reported: unknown[] = []
    const failure = new Error('the store went away')
    const worker = startRolloutWorker(engine.deps, (error) => reported.push(error), {
      run: async () => {
        throw failure
      },
    })
    worker.kick()
    await new Promise((resolve) => setTimeout(resolve, 200))
    await worker.stop()
    expect(reported[0]).toBe(failure)
    expect(reported.some((e) => e instanceof WorkerStopped)).toBe(false)
  })
})

describe('untilStopped', () => {
  it('hands its tick the signal that stopping aborts, and returns within a second of the stop', async () => {
    const stop = new AbortController()
    let ticking: () => void = () => {}
    const tickStarted = new Promise<void>((resolve) => {
      ticking = resolve
    })
    const running = untilStopped(
      10,
      async (signal) => {
        ticking()
        await neverSettles({ id: 'acct-1' } as Target, undefined, { signal })
      },
      stop.signal,
    )
    await tickStarted
    const started = Date.now()
    stop.abort()
    await running
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('still fails with a tick that fails on its own', async () => {
    await expect(
      untilStopped(10, async () => {
        throw new Error('broken tick')
      }),
    ).rejects.toThrow('broken tick')
  })
})
