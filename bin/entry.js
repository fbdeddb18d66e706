// Runs one entry of the CLI: the compiled one in dist/ (built from src/ by `npm install`, see
// scripts/build.ts) when that build is of the sources as they are now; otherwise (no build yet,
// or a source edited since) the TypeScript sources through tsx, which compiles each module as it
// loads: correct, only slower to start and heavier (tsx's compiler stays in memory).
// FLOTILLA_FROM_SOURCE=1 always takes the sources. Plain JavaScript: nothing compiles it.
import { fileURLToPath } from 'node:url'
import { isFresh } from './dist-stamp.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = fileURLToPath(new URL('../dist/', import.meta.url))

/**
 * Runs `dist/NAME.js` or, when that is not a build of the current sources, `src/cli/NAME.ts`.
 * @param {'bin' | 'start'} name an entry point of scripts/build.ts
 */
export async function runEntry(name) {
  if (process.env.FLOTILLA_FROM_SOURCE !== '1' && isFresh(root, dist)) {
    await import(`../dist/${name}.js`)
  } else {
    const { register } = await import('tsx/esm/api')
    register()
    await import(`../src/cli/${name}.ts`)
  }
}
