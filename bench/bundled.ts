// A benchmark's child process runs the product as it ships: compiled by esbuild like dist/
// (scripts/build.ts), not through tsx, whose compiler would add its own start time and ~100 MB
// of memory to what is measured.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundle } from '../scripts/build.ts'

/** Where bundles of benchmark children go: inside node_modules, so their packages resolve. */
const CACHE = fileURLToPath(new URL('../node_modules/.cache/flotilla-bench/', import.meta.url))

/**
 * Compiles `bench/NAME.ts` and what it imports into one bundle, made anew on each call.
 * @returns the path of the JavaScript file to run with `node`.
 */
export async function bundledChild(name: string): Promise<string> {
  const outdir = join(CACHE, name)
  await bundle({ [name]: `bench/${name}.ts` }, outdir)
  return join(outdir, `${name}.js`)
}
