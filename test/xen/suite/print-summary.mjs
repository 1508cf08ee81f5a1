// Prints the results of a real-Xen run from the lines of suite/stream-reporter.mjs: the dom0
// results.log if the run ended normally, else the console as the host captured it (any text;
// only "@@XENIPC-TEST " lines count). One line per test, then the counts. A run cut short (no
// run-end line: timeout, hang, crash) still lists what passed and failed, and names the tests
// and files that had started without a result as UNFINISHED.
// Usage: node print-summary.mjs FILE   Exit status 1 if any test failed or did not finish, the
// run did not end, or no test ran.
import { readFileSync } from 'node:fs';

const PREFIX = '@@XENIPC-TEST ';
const tests = new Map();   // "file > name" -> { state, ms, detail[] }
const files = new Map();   // file -> state ('running' until file-end)
let last;                  // the test the previous detail lines belong to
let runEnd;
const hooks = new Map();   // "file > suite" -> hook kind, while it runs
let unhandled = 0;
const printed = [];        // what tests printed (measurements)

for (const raw of readFileSync(process.argv[2], 'utf8').split('\n')) {
  const at = raw.indexOf(PREFIX);
  if (at < 0) continue;
  const line = raw.slice(at + PREFIX.length).replace(/\r$/, '');
  const [event] = line.split(' ', 1);
  const rest = line.slice(event.length + 1);
  let m;
  if (event === 'file-start') files.set(rest, 'running');
  else if (event === 'start') tests.set(rest, { state: 'running', detail: [] });
  else if ((m = /^(pass|fail|skip) (\d+)ms (.*)$/.exec(line))) {
    last = { state: m[1], ms: Number(m[2]), detail: [] };
    tests.set(m[3], last);
  } else if (line.startsWith('  | ')) last?.detail.push(line.slice(4));
  else if ((m = /^file-end (\S+) (\d+)ms (.*)$/.exec(line))) {
    files.set(m[3], m[1]);
    last = { detail: [] };
    if (m[1] === 'failed') tests.set(`${m[3]} (file)`, { state: 'file-error', detail: last.detail });
  } else if (event === 'unhandled-error') unhandled += Number(rest);
  else if ((m = /^hook-start (\S+) (.*)$/.exec(line))) hooks.set(m[2], m[1]);
  else if ((m = /^hook-end (\S+) (.*)$/.exec(line))) hooks.delete(m[2]);
  else if (event === 'run-end') runEnd = rest;
  else if (event === 'console') printed.push(rest);
}

const mark = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', running: 'UNFINISHED', 'file-error': 'FILE' };
const count = { pass: 0, fail: 0, skip: 0, running: 0, 'file-error': 0 };
for (const [name, t] of tests) {
  if (t.state === 'file-error' && t.detail.length === 0) continue;   // failed through its tests
  count[t.state]++;
  console.log(`${mark[t.state]} ${name}${t.ms !== undefined ? ` (${(t.ms / 1000).toFixed(1)} s)` : ''}`);
  for (const d of t.detail) console.log(`    ${d}`);
}
if (printed.length > 0) console.log(`printed by the tests:\n  ${printed.join('\n  ')}`);
const unfinishedFiles = [...files].filter(([, state]) => state === 'running').map(([file]) => file);
for (const [where, kind] of hooks) console.log(`UNFINISHED ${kind} hook of ${where}`);
for (const file of unfinishedFiles) console.log(`UNFINISHED file ${file}`);
const failed = count.fail + count['file-error'] + unhandled;
const total = count.pass + count.fail + count.skip + count.running;
console.log(`test:xen: ${count.pass} passed, ${failed} failed, ${count.skip} skipped, ${count.running} unfinished, ` +
  `of ${total} tests in ${files.size} files` +
  (runEnd === undefined ? '; THE RUN DID NOT END (timeout, hang or crash): the tests above marked UNFINISHED were running' : ''));
process.exit(failed > 0 || count.running > 0 || unfinishedFiles.length > 0 || runEnd === undefined || total === 0 ? 1 : 0);
