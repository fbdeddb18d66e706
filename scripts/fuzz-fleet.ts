// The long run of the fuzz test of the fleet repository (test/fuzz-fleet.test.ts runs a short one
// in `npm test`):
//
//   npm run fuzz                                       # 15 minutes, a random seed
//   npm run fuzz -- --seed 42 --minutes 20
//   npm run fuzz -- --seed 42 --path "17:3:0"          # replay a failure and its shrinks
//   npm run fuzz -- --strict                           # known bugs fail too
//   npm run fuzz -- --accounts 30 --clusters 20 --max-mutations 3
//
// The mutants run in a worker thread with a heap limit, watched from the main thread: a mutant
// that hangs or runs the worker out of memory is reported with its mutations and diff (a hang
// cannot be caught inside the thread that hangs). Prints the counts every 30 s and at the end;
// exits 1 when a mutant broke a property, hung or ran out of memory.
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { generateExampleFleet } from '../src/example/generate-example.ts'
import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'
import { describeMutant, type FuzzTally } from '../test/support/fuzz/fuzz-tally.ts'
import { KNOWN_BUGS } from '../test/support/fuzz/known-bugs.ts'
import type { Mutation } from '../test/support/fuzz/mutations.ts'
import { runFuzz } from '../test/support/fuzz/run-fuzz.ts'

// In the main thread and in the worker (which runs this file too).
useAwsIndexFiles()

interface RunSettings {
  readonly seed: number
  readonly minutes: number
  readonly runs: number
  readonly path?: string
  readonly accounts: number
  readonly clusters: number
  readonly maxMutations: number
  readonly strict: boolean
  readonly hangSeconds: number
  readonly memoryMb: number
}

/** What the worker tells the main thread. */
type WorkerMessage =
  | { readonly type: 'mutant'; readonly mutations: readonly Mutation[] }
  | { readonly type: 'progress'; readonly summary: string }
  | { readonly type: 'done'; readonly summary: string; readonly failure?: string }

const PROGRESS_EVERY_MS = 30_000

if (isMainThread) process.exitCode = await main()
else runInWorker(workerData as RunSettings)

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      minutes: { type: 'string', default: '15' },
      runs: { type: 'string', default: '10000000' },
      path: { type: 'string' },
      accounts: { type: 'string', default: '16' },
      clusters: { type: 'string', default: '8' },
      'max-mutations': { type: 'string', default: '3' },
      strict: { type: 'boolean', default: false },
      'hang-seconds': { type: 'string', default: '60' },
      'memory-mb': { type: 'string', default: '2048' },
    },
  })
  const settings: RunSettings = {
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed),
    minutes: Number(values.minutes),
    runs: Number(values.runs),
    ...(values.path === undefined ? {} : { path: values.path }),
    accounts: Number(values.accounts),
    clusters: Number(values.clusters),
    maxMutations: Number(values['max-mutations']),
    strict: values.strict,
    hangSeconds: Number(values['hang-seconds']),
    memoryMb: Number(values['memory-mb']),
  }
  console.log(
    `fuzzing the example fleet (${settings.accounts} accounts, ${settings.clusters} clusters) for ${settings.minutes} min, seed ${settings.seed}${settings.path ? `, path ${settings.path}` : ''}${settings.strict ? ', strict' : ''}`,
  )
  const files = generateExampleFleet({ accounts: settings.accounts, clusters: settings.clusters, seed: 1 })
  // The worker runs this TypeScript file too: it registers tsx's loader first, which threads do
  // not inherit (and which Node 20 does not apply to a worker's entry file given by --import).
  const bootstrap = `(async () => {
    const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    register()
    await import(${JSON.stringify(import.meta.url)})
  })()`
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: settings,
    resourceLimits: { maxOldGenerationSizeMb: settings.memoryMb },
  })
  let last: readonly Mutation[] | undefined
  const lastMutant = () =>
    last ? describeMutant(files, last) : '(before the first mutant: loading the example)'
  return new Promise<number>((resolve) => {
    let settled = false
    const finish = (code: number, message: string) => {
      if (settled) return
      settled = true
      clearTimeout(watchdog)
      console.log(message)
      void worker.terminate()
      resolve(code)
    }
    const hang = () =>
      finish(
        1,
        `HANG: no mutant finished within ${settings.hangSeconds} s (seed ${settings.seed}); the mutant:\n${lastMutant()}`,
      )
    let watchdog = setTimeout(hang, settings.hangSeconds * 1000 + 60_000)
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'mutant') {
        last = message.mutations
        clearTimeout(watchdog)
        watchdog = setTimeout(hang, settings.hangSeconds * 1000)
      } else if (message.type === 'progress') console.log(message.summary)
      else
        finish(
          message.failure ? 1 : 0,
          message.failure ? `FAILED\n${message.failure}` : `done (seed ${settings.seed})\n${message.summary}`,
        )
    })
    worker.on('error', (error: Error & { code?: string }) =>
      finish(
        1,
        `${error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'OUT OF MEMORY' : 'WORKER CRASHED'} (seed ${settings.seed}): ${error.message}\nthe last mutant started:\n${lastMutant()}`,
      ),
    )
    worker.on('exit', (code) =>
      finish(1, `the worker exited (${code}) before finishing; the last mutant:\n${lastMutant()}`),
    )
  })
}

function runInWorker(settings: RunSettings): void {
  const post = (message: WorkerMessage) => parentPort!.postMessage(message)
  let lastProgress = performance.now()
  const progress = (tally: FuzzTally) => {
    if (performance.now() - lastProgress < PROGRESS_EVERY_MS) return
    lastProgress = performance.now()
    post({ type: 'progress', summary: tally.summary() })
  }
  const run = runFuzz({
    seed: settings.seed,
    numRuns: settings.runs,
    timeLimitMs: settings.minutes * 60_000,
    ...(settings.path === undefined ? {} : { path: settings.path }),
    example: { accounts: settings.accounts, clusters: settings.clusters, seed: 1 },
    maxMutations: settings.maxMutations,
    knownBugs: settings.strict ? [] : KNOWN_BUGS,
    onStart: (mutations) => post({ type: 'mutant', mutations }),
    onMutant: progress,
  })
  post({ type: 'done', summary: run.tally.summary(), ...(run.failure ? { failure: run.failure } : {}) })
}
