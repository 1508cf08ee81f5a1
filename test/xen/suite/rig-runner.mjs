// The rig's test runner (suite/dom0-suite.sh): runs the compiled real-Xen test files
// (test/xen/.compiled/test/xen/**/*.xen.test.js, see build-tests.sh) one after the other in this
// one process, with vitest's API as far as they use it (suite/vitest-shim.mjs). Each test's start
// and result are written as they happen, to stdout (the serial console, which the host prints
// and keeps as it arrives) and to $XENIPC_OUT/results.log, so a run cut short by a timeout or a
// hang still tells what passed, what failed and what was running (suite/print-summary.mjs).
//   node test/xen/suite/rig-runner.mjs [FILTER...]   only files whose path contains a FILTER
// Lines: "@@XENIPC-TEST <event> ...":
//   file-start <file> | start <file> > <test> | pass|fail|skip <ms>ms <file> > <test>
//   "  | <detail>" after a failure | file-end passed|failed <ms>ms <file> | run-end passed|failed
//   hook-start|hook-end beforeAll <file> > <suite> | console <what a test printed>
// Files run in path order, except those named in RUN_LAST (they destroy the shared domU).
// Timeouts: 120 s per test, 300 s per hook (the first waits for the domU to boot), unless given.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

// The compiled tests import this same module for 'vitest' (build-tests.sh links them to it).
const shim = await import('./vitest-shim.mjs');

const PREFIX = '@@XENIPC-TEST';
const COMPILED = 'test/xen/.compiled';
const TEST_TIMEOUT_MS = 120_000;
const HOOK_TIMEOUT_MS = 300_000;
const ERROR_LINES = 14;
/** Files that must run after all others: they destroy the domU the others talk to. */
const RUN_LAST = ['domain-destroy'];

const resultsFile = process.env.XENIPC_OUT ? join(process.env.XENIPC_OUT, 'results.log') : undefined;
function emit(text) {
  process.stdout.write(`${text}\n`);
  if (resultsFile) appendFileSync(resultsFile, `${text}\n`);
}

// What tests print (measurements) goes to results.log too, as "console <line>" events.
for (const level of ['log', 'info', 'warn', 'error']) {
  console[level] = (...args) => {
    for (const line of format(...args).split('\n')) emit(`${PREFIX} console ${line}`);
  };
}

function findTestFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTestFiles(path));
    else if (entry.name.endsWith('.xen.test.js')) found.push(path);
  }
  return found;
}
/** test/xen/.compiled/<path>.js -> <path>.ts, as the test's author knows it. */
const sourcePath = (compiled) => relative(COMPILED, compiled).replace(/\.js$/, '.ts');
const rank = (file) => (RUN_LAST.some((name) => file.includes(name)) ? 1 : 0);

function describeErrors(errors) {
  const lines = [];
  for (const err of errors) {
    const e = err instanceof Error ? err : new Error(String(err));
    const head = e.message?.startsWith(e.name) ? e.message : `${e.name}: ${e.message}`;
    const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 4).map((l) => l.trim());
    const extra = 'actual' in e && 'expected' in e && e.showDiff !== false
      ? [`expected: ${short(e.expected)}`, `actual:   ${short(e.actual)}`] : [];
    lines.push(...`${head}`.split('\n').slice(0, ERROR_LINES), ...extra, ...frames);
  }
  return lines.map((l) => `${PREFIX}   | ${l}`).join('\n');
}
function short(value) {
  let text;
  try { text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)); } catch { text = String(value); }
  return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** Errors nobody awaited, while a test runs: they fail that test (vitest fails the run). */
let stray = [];
process.on('unhandledRejection', (reason) => stray.push(reason));
process.on('uncaughtException', (err) => stray.push(err));

function withTimeout(fn, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out in ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(fn), timeout]).finally(() => clearTimeout(timer));
}

const chainOf = (suite) => (suite ? [...chainOf(suite.parent), suite] : []);
const fullName = (node) => [...chainOf(node.kind === 'suite' ? node : node.parent).map((s) => s.name).filter(Boolean), ...(node.kind === 'test' ? [node.name] : [])].join(' > ');
const testsIn = (suite) => suite.children.flatMap((c) => (c.kind === 'test' ? [c] : testsIn(c)));

const counts = { pass: 0, fail: 0, skip: 0 };
function report(event, ms, file, test, errors = []) {
  counts[event]++;
  emit(`${PREFIX} ${event} ${Math.round(ms)}ms ${file} > ${fullName(test)}`);
  if (errors.length > 0) emit(describeErrors(errors));
}

async function runTest(file, test) {
  if (test.skip) return report('skip', 0, file, test);
  emit(`${PREFIX} start ${file} > ${fullName(test)}`);
  shim.expect.setState({ assertionCalls: 0, currentTestName: fullName(test) });
  stray = [];
  const errors = [];
  const t0 = performance.now();
  const chain = chainOf(test.parent);
  try {
    for (const s of chain) for (const h of s.hooks.beforeEach) await withTimeout(h.fn, h.timeout ?? HOOK_TIMEOUT_MS, 'beforeEach hook');
    await withTimeout(() => test.fn({ expect: shim.expect, task: { name: test.name } }), test.timeout ?? TEST_TIMEOUT_MS, 'test');
  } catch (err) {
    errors.push(err);
  }
  for (const s of chain.reverse()) {
    for (const h of s.hooks.afterEach) {
      try { await withTimeout(h.fn, h.timeout ?? HOOK_TIMEOUT_MS, 'afterEach hook'); } catch (err) { errors.push(err); }
    }
  }
  errors.push(...stray);
  stray = [];
  report(errors.length ? 'fail' : 'pass', performance.now() - t0, file, test, errors);
}

/** Returns the errors of its hooks that no test took (afterAll). */
async function runSuite(file, suite) {
  const tests = testsIn(suite);
  if (tests.every((t) => t.skip)) {
    for (const t of tests) report('skip', 0, file, t);
    return [];
  }
  const t0 = performance.now();
  const where = `${file}${fullName(suite) ? ` > ${fullName(suite)}` : ''}`;
  try {
    for (const h of suite.hooks.beforeAll) {
      // A hook may wait long (the domU booting): a cut-short run names it like a test.
      emit(`${PREFIX} hook-start beforeAll ${where}`);
      await withTimeout(h.fn, h.timeout ?? HOOK_TIMEOUT_MS, `beforeAll hook of "${where}"`);
      emit(`${PREFIX} hook-end beforeAll ${where}`);
    }
  } catch (err) {
    emit(`${PREFIX} hook-end beforeAll ${where}`);
    for (const t of tests) report(t.skip ? 'skip' : 'fail', t.skip ? 0 : performance.now() - t0, file, t, t.skip ? [] : [err]);
    return runAfterAll(suite);
  }
  const late = [];
  for (const child of suite.children) {
    if (child.kind === 'test') await runTest(file, child);
    else late.push(...await runSuite(file, child));
  }
  return [...late, ...await runAfterAll(suite)];
}
async function runAfterAll(suite) {
  const errors = [];
  for (const h of suite.hooks.afterAll) {
    try { await withTimeout(h.fn, h.timeout ?? HOOK_TIMEOUT_MS, 'afterAll hook'); } catch (err) { errors.push(err); }
  }
  return errors;
}

const filters = process.argv.slice(2);
const files = findTestFiles(join(COMPILED, 'test/xen'))
  .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
let failedFiles = 0;
for (const compiled of files) {
  const file = sourcePath(compiled);
  emit(`${PREFIX} file-start ${file}`);
  const t0 = performance.now();
  const root = shim.beginFile();
  const failsBefore = counts.fail;
  let fileErrors = [];
  try {
    stray = [];
    await import(pathToFileURL(join(process.cwd(), compiled)).href);
    fileErrors = await runSuite(file, root);
  } catch (err) {
    fileErrors = [err];
  }
  fileErrors.push(...stray);
  stray = [];
  const failed = fileErrors.length > 0 || testsIn(root).length === 0 || counts.fail > failsBefore;
  if (testsIn(root).length === 0 && fileErrors.length === 0) fileErrors.push(new Error('no test found in the file'));
  if (failed) failedFiles++;
  emit(`${PREFIX} file-end ${failed ? 'failed' : 'passed'} ${Math.round(performance.now() - t0)}ms ${file}`);
  if (fileErrors.length > 0) emit(describeErrors(fileErrors));
  if (failed) {
    emitXenstoredState();
    emitDomuKernelTrouble();
  }
}
/**
 * After a failed file: is dom0's xenstored still running, and the end of its log. A failure that
 * reads "the connection to the Xen host ... was lost" is most likely xenstored gone (4.17 can
 * abort on `consider_message: Assertion 'conn->in == NULL'`); this says so, or rules it out.
 */
function emitXenstoredState() {
  const read = (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const pid = read('/var/run/xen/xenstored.pid')?.trim();
  const running = pid !== undefined && pid !== '' && existsSync(`/proc/${pid}`);
  const log = read('/var/log/xen/xenstored.log')?.trimEnd();
  const state = `dom0 xenstored (pid ${pid || '?'}) ${running ? 'is running' : 'is GONE'}`;
  if (!log) {
    emit(`${PREFIX} console ${state}; /var/log/xen/xenstored.log is ${log === undefined ? 'missing' : 'empty'}`);
    return;
  }
  emit(`${PREFIX} console ${state}; the end of /var/log/xen/xenstored.log:`);
  for (const line of log.split('\n').slice(-20)) emit(`${PREFIX} console   [xenstored] ${line}`);
}
/**
 * After a failed file: what the domU's kernel said about hung tasks (its console, through the
 * rig's `xenipc-domu log`), so a domU that stopped answering shows why without waiting for the end.
 */
function emitDomuKernelTrouble() {
  let log;
  try {
    log = execFileSync('xenipc-domu', ['log'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return; // no domU in this run
  }
  const lines = log.split('\n');
  const first = lines.findIndex((l) => /blocked for more than|BUG:|Oops|WARNING:/.test(l));
  if (first < 0) return;
  emit(`${PREFIX} console domU kernel trouble (its console, from the first report):`);
  for (const line of lines.slice(first, first + 120)) if (!/\]  \? /.test(line)) emit(`${PREFIX} console   [domU] ${line}`);
}

const ok = counts.fail === 0 && failedFiles === 0 && files.length > 0;
emit(`${PREFIX} run-end ${ok ? 'passed' : 'failed'}`);
// Tests may leave handles behind (a hung promise, a watch): the run is over either way.
process.exit(ok ? 0 : 1);
