// Prints the results of the real-Xen vitest run (its JSON report): one line per test, then the
// counts. Exit status 1 if any test failed or no test ran at all.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const mark = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP', pending: 'SKIP', todo: 'TODO' };
for (const file of report.testResults) {
  const name = relative(process.env.XENIPC_PROJECT ?? process.cwd(), file.name);
  if (file.assertionResults.length === 0) console.log(`FILE-${file.status.toUpperCase()} ${name}: ${file.message ?? ''}`);
  for (const test of file.assertionResults) {
    console.log(`${mark[test.status] ?? test.status} ${name} > ${test.fullName}`);
    if (test.status === 'failed') for (const msg of test.failureMessages) console.log(`    ${msg.split('\n').slice(0, 4).join('\n    ')}`);
  }
}
const failedFiles = report.testResults.filter((f) => f.status === 'failed').length;
console.log(`test:xen: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ` +
  `${report.numPendingTests + report.numTodoTests} skipped, of ${report.numTotalTests} tests in ${report.testResults.length} files` +
  (failedFiles ? ` (${failedFiles} files failed)` : ''));
process.exit(report.numFailedTests > 0 || failedFiles > 0 || report.numTotalTests === 0 ? 1 : 0);
