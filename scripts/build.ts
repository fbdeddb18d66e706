// npm run build (and `prepare`, so `npm install` and `npm ci` run it): compiles the CLI from src/
// into dist/, which bin/flotilla.js runs instead of transpiling the TypeScript sources at every
// start (tsx took most of the 2-4 s a `flotilla --version` used to take).
//
// One esbuild bundle from src/cli/bin.ts and src/cli/start.ts (`npm start`, see bin/start.js),
// split at every dynamic import(): main.ts loads each command's module when that command runs,
// and each becomes a chunk of its own, so a command loads only its chunks. Packages stay imports of node_modules (not bundled). dist/stamp.json
// records every source file the bundle was made of; bin/dist-stamp.js checks it before running
// dist/ (see there). A source that finds files next to itself through `import.meta.url` gets the
// URL of its place in src/, not of the chunk it lands in (see `sourceUrls`).
import { readdirSync, renameSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { describeFile, type StampedFile, writeStamp } from '../bin/dist-stamp.js'

/** The project directory. */
const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** What a build made. */
export interface CliBuild {
  /** The directory holding `bin.js`, its chunks and `stamp.json`. */
  readonly outdir: string
  /** The source files it was made of, relative to the project. */
  readonly inputs: readonly string[]
}

/**
 * Compiles the CLI into `outdir` (default `dist/`), replacing what was there. The new build is
 * made next to it and moved in place at the end, so a `flotilla` started meanwhile finds the old
 * build, or none (and runs the sources): never half of one. `outdir` must be inside the project:
 * the compiled code imports its packages from the project's node_modules.
 */
export async function buildCli(outdir = join(ROOT, 'dist')): Promise<CliBuild> {
  const staging = `${outdir}.building-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  // What each file is before esbuild reads it: a file edited while the build runs then no longer
  // matches its stamp, and the build is not trusted (rather than stamped with the newer text).
  const before = snapshotSources()
  try {
    const inputs = await bundle({ bin: 'src/cli/bin.ts', start: 'src/cli/start.ts' }, staging, outdir)
    const stamped: Record<string, StampedFile> = {}
    for (const file of [...inputs, ...BUILD_CONFIGURATION]) {
      const described = before.get(file)
      if (!described)
        throw new Error(`the build read ${file}, which is not under src/: say so in scripts/build.ts`)
      stamped[file] = described
    }
    writeStamp(staging, stamped)
    rmSync(outdir, { recursive: true, force: true })
    renameSync(staging, outdir)
    return { outdir, inputs }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/**
 * Bundles `entryPoints` (name → source, relative to the project) into `outdir` as the CLI is
 * built, for code that must run as the product runs (the benchmarks' server child). No stamp:
 * such a bundle is made again before each use.
 * @returns the source files it was made of, relative to the project.
 */
export async function bundle(
  entryPoints: Readonly<Record<string, string>>,
  outdir: string,
  finalOutdir = outdir,
): Promise<string[]> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { ...entryPoints },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    chunkNames: '[name]-[hash]',
    // Internal error logs then name lines of src/ (with --enable-source-maps).
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceUrls(finalOutdir)],
  })
  return Object.keys(result.metafile.inputs).sort()
}

/** Files that change what the build makes of the same sources: a build is stale when they change. */
const BUILD_CONFIGURATION = ['scripts/build.ts', 'tsconfig.json']

/** Every file a build may read (src/'s TypeScript, the build's configuration), as the stamp records it. */
function snapshotSources(): Map<string, StampedFile> {
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => `src/${file.split(sep).join('/')}`)
  const snapshot = new Map<string, StampedFile>()
  for (const file of [...files, ...BUILD_CONFIGURATION]) {
    const described = describeFile(ROOT, file)
    if (described) snapshot.set(file, described)
  }
  return snapshot
}

/**
 * Gives each source's `import.meta.url` the URL of the source file itself, computed from the
 * chunk's own URL (every chunk lands directly in `outdir`), so `new URL('../x/', import.meta.url)`
 * finds the same files from dist/ as from src/, wherever the project is. The other `import.meta`
 * paths are refused: nothing uses them yet, and a build that quietly changed their meaning would
 * be wrong only when run.
 */
function sourceUrls(outdir: string): Plugin {
  return {
    name: 'source-urls',
    setup(esbuild) {
      esbuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8')
        if (!text.includes('import.meta')) return undefined
        const other = /import\.meta\.(dirname|filename|resolve)\b/.exec(text)
        if (other) {
          return {
            errors: [
              { text: `import.meta.${other[1]} is not supported by scripts/build.ts: use import.meta.url` },
            ],
          }
        }
        const fromChunk = relative(outdir, args.path).split(sep).join('/')
        const url = `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`
        return {
          contents: text.replaceAll('import.meta.url', url),
          loader: 'ts',
          resolveDir: dirname(args.path),
        }
      })
    },
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now()
  const outdirArgument = process.argv.indexOf('--outdir')
  const outdir = outdirArgument > 0 ? process.argv[outdirArgument + 1] : undefined
  const made = await buildCli(outdir === undefined ? undefined : resolve(outdir))
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(
    `Built ${relative(ROOT, made.outdir)}/ from ${made.inputs.length} source files in ${seconds} s.`,
  )
}
