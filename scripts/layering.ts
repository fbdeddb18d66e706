// npm run layering: prints what the layering test (test/layering.test.ts) checks — every forbidden
// import, errors first, then the rules that only warn until the layers they guard are built.
// Exits 1 when there is an error.
import { checkLayering, formatViolations } from '../test/support/layering.ts'

const report = await checkLayering()
const core = report.modules.filter((m) => m.startsWith('src/core/')).length
console.log(`${report.modules.length} modules of src/ (${core} in core/)`)
if (report.errors.length > 0) {
  console.log(`\n${report.errors.length} error(s):\n${formatViolations(report.errors, report.comments)}`)
}
if (report.warnings.length > 0) {
  console.log(
    `\n${report.warnings.length} warning(s):\n${formatViolations(report.warnings, report.comments)}`,
  )
}
if (report.errors.length === 0) console.log('\nno forbidden import')
process.exitCode = report.errors.length > 0 ? 1 : 0
