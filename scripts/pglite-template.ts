// Part of `prepare` (npm install, npm ci): makes the empty embedded database every new store on
// disk is copied from (src/store/pglite-template.ts), so the first `npm start` does not wait for
// `initdb`. Not being able to make it is not an install error: stores then run initdb themselves.
import { ensureTemplate, templateDir } from '../src/store/pglite-template.ts'

const started = Date.now()
try {
  await ensureTemplate()
  console.log(
    `The empty embedded database is in ${templateDir()} (${((Date.now() - started) / 1000).toFixed(1)} s).`,
  )
} catch (error) {
  console.warn(
    `note: no empty embedded database to copy from (${(error as Error).message}); new stores run initdb`,
  )
}
