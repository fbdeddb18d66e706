// The loader hooks of record-modules.mjs: `load` sees each module once, whether it is ESM, a
// CommonJS module imported by ESM, or a builtin.
import { appendFileSync } from 'node:fs'

const file = process.env.FLOTILLA_RECORD_MODULES

/** @type {import('node:module').LoadHook} */
export async function load(url, context, next) {
  if (file) appendFileSync(file, `${url}\n`)
  return next(url, context)
}
