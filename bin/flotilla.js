#!/usr/bin/env node
// The installed entry point. It runs the compiled CLI in dist/ (built from src/ by `npm install`,
// see scripts/build.ts) when that build is of the sources as they are now; otherwise (no build
// yet, or a source edited since) the TypeScript sources through tsx, which compiles each module
// as it loads: correct, only slower to start. FLOTILLA_FROM_SOURCE=1 always takes the sources.
import { fileURLToPath } from 'node:url'
import { isFresh } from './dist-stamp.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = fileURLToPath(new URL('../dist/', import.meta.url))

if (process.env.FLOTILLA_FROM_SOURCE !== '1' && isFresh(root, dist)) {
  await import('../dist/bin.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/bin.ts')
}
