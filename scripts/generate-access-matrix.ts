// Writes the role × endpoint × team matrix into docs/server.md, between its markers, from
// src/server/access/route-access.ts.
import { readFileSync, writeFileSync } from 'node:fs'
import { ACCESS_MATRIX_PAGE, withAccessMatrix } from '../src/server/access/access-matrix.ts'

const page = new URL(`../${ACCESS_MATRIX_PAGE}`, import.meta.url)
writeFileSync(page, withAccessMatrix(readFileSync(page, 'utf8')))
console.log(ACCESS_MATRIX_PAGE)
