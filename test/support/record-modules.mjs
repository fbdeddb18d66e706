// Records every module a Node process loads: `node --import ./record-modules.mjs …` with
// FLOTILLA_RECORD_MODULES naming a file, to which each loaded module's URL is appended, one a line.
// The hooks run on Node's loader thread, so they append to a file rather than keep a list.
import { register } from 'node:module'

register('./record-modules-hooks.mjs', import.meta.url)
