import { type CelInput, celEnv, parse, plan } from '@bufbuild/cel'
import { Environment } from '@marcbachmann/cel-js'

const EXPRESSION =
  "target.environment == 'production' && target.channel == 'stable' && 'owner' in target.tags"

function contexts(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    target: {
      environment: i % 3 === 0 ? 'production' : 'test',
      channel: i % 2 === 0 ? 'stable' : 'dev',
      tags: i % 5 === 0 ? {} : { owner: `team-${i}` },
    },
  }))
}

/**
 * Evaluations per second of a typical selector with each CEL engine, compiled once and evaluated
 * over many targets (the access pattern of selectors and policies).
 */
export function celEnginesPerSecond(n = 20_000): { celJs: number; bufbuild: number } {
  const inputs = contexts(n)
  const env = new Environment().registerVariable({
    name: 'target',
    schema: { environment: 'string', channel: 'string', tags: 'map<string, string>' },
  })
  const program = env.parse(EXPRESSION)
  let start = performance.now()
  for (const input of inputs) program(input)
  const celJs = n / ((performance.now() - start) / 1000)

  // @bufbuild/cel takes maps as Map instances; convert outside the timed loop.
  const bufInputs = inputs.map((c) => ({
    target: new Map<string, CelInput>([
      ['environment', c.target.environment],
      ['channel', c.target.channel],
      ['tags', new Map<string, CelInput>(Object.entries(c.target.tags))],
    ]),
  }))
  const compiled = plan(celEnv(), parse(EXPRESSION))
  start = performance.now()
  for (const input of bufInputs) compiled(input)
  const bufbuild = n / ((performance.now() - start) / 1000)
  return { celJs, bufbuild }
}
