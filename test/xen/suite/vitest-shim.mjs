// The part of vitest's test API that the real-Xen tests use, for the rig's own runner
// (rig-runner.mjs): describe/it/test (with .skip, .skipIf, .runIf, .each), beforeAll/afterAll/
// beforeEach/afterEach, and vitest's real `expect` (@vitest/expect on chai, the same matchers and
// messages; expect.poll too). Loading vitest itself costs 50-90 s before the first test under QEMU's TCG (vite,
// the config bundler, a worker fork, the module runner); this costs a few seconds. Test files
// import from 'vitest' (build-tests.sh points the compiled files here), so they stay
// ordinary vitest files. Anything else of vitest's API throws at once, naming itself.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const fromVitest = createRequire(createRequire(import.meta.url).resolve('vitest/package.json'));
const vitestExpect = await import(pathToFileURL(fromVitest.resolve('@vitest/expect')).href);
const { chai, JestExtend, JestChaiExpect, JestAsymmetricMatchers, ASYMMETRIC_MATCHERS_OBJECT, GLOBAL_EXPECT, getState, setState } = vitestExpect;

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

export const expect = (value, message) => {
  setState({ assertionCalls: getState(expect).assertionCalls + 1 }, expect);
  return chai.expect(value, message);
};
Object.assign(expect, chai.expect);
Object.assign(expect, globalThis[ASYMMETRIC_MATCHERS_OBJECT]);
expect.getState = () => getState(expect);
expect.setState = (state) => setState(state, expect);
expect.extend = (matchers) => chai.expect.extend(expect, matchers);
expect.assert = chai.assert;
expect.unreachable = (message) => chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`);
setState({ assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null,
  expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null, currentTestName: '' }, expect);
globalThis[GLOBAL_EXPECT] = expect;
/** expect.poll(fn, { timeout, interval }).matcher(...): retries fn until the matcher passes (vitest's semantics). */
expect.poll = (fn, { timeout = 1000, interval = 50 } = {}) => new Proxy({}, {
  get: (_t, matcher) => async (...args) => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await fn();
      try {
        return expect(value)[matcher](...args);
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
    }
  },
});

// ------------------------------------------------------------------------------ collection
/** @typedef {{ kind: 'suite', name: string, skip: boolean, children: Array<Suite|Test>, hooks: Record<string, Function[]>, parent?: Suite }} Suite */
/** @typedef {{ kind: 'test', name: string, skip: boolean, fn: Function, timeout?: number, parent: Suite }} Test */

/** The root suite of the file being collected (set by the runner before importing a file). */
let current;
export function beginFile() {
  current = { kind: 'suite', name: '', skip: false, children: [], hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] } };
  return current;
}

function timeoutOf(options) {
  if (typeof options === 'number') return options;
  if (options && typeof options === 'object' && typeof options.timeout === 'number') return options.timeout;
  return undefined;
}

function formatName(template, args, index) {
  let i = 0;
  return template.replace(/%[sdifjo#%]/g, (spec) => {
    if (spec === '%%') return '%';
    if (spec === '%#') return String(index);
    const value = args[i++];
    return spec === '%j' || spec === '%o' ? JSON.stringify(value) : String(value);
  });
}

function addSuite(name, fn, skip) {
  const parent = current;
  if (!parent) throw new Error('describe() outside a test file being collected');
  const suite = { kind: 'suite', name, skip: skip || parent.skip, children: [], hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] }, parent };
  parent.children.push(suite);
  current = suite;
  try {
    const result = fn?.();
    if (result && typeof result.then === 'function') throw new Error(`describe("${name}") callback returned a promise: collection is synchronous`);
  } finally {
    current = parent;
  }
}

function addTest(name, fn, options, skip) {
  if (!current) throw new Error('it() outside a test file being collected');
  current.children.push({ kind: 'test', name, fn, timeout: timeoutOf(options), skip: skip || current.skip || fn === undefined, parent: current });
}

function withVariants(addAny) {
  // vitest takes (name, fn, options) and (name, options, fn).
  const add = (name, a, b, skip) => (typeof a === 'function' || a === undefined ? addAny(name, a, b, skip) : addAny(name, b, a, skip));
  const api = (name, fn, options) => add(name, fn, options, false);
  api.skip = (name, fn, options) => add(name, fn, options, true);
  api.skipIf = (condition) => (name, fn, options) => add(name, fn, options, Boolean(condition));
  api.runIf = (condition) => (name, fn, options) => add(name, fn, options, !condition);
  api.todo = (name) => add(name, undefined, undefined, true);
  api.each = (cases) => (name, a, b) => cases.forEach((c, i) => {
    const [fn, options] = typeof a === 'function' || a === undefined ? [a, b] : [b, a];
    const args = Array.isArray(c) ? c : [c];
    add(formatName(name, args, i), fn && (() => fn(...args)), options, false);
  });
  for (const unsupported of ['only', 'concurrent', 'sequential', 'fails', 'for', 'extend', 'scoped']) {
    Object.defineProperty(api, unsupported, { get() { throw new Error(`the rig's runner does not support .${unsupported} (suite/vitest-shim.mjs)`); } });
  }
  return api;
}

export const describe = withVariants((name, fn, _options, skip) => addSuite(name, fn, skip));
export const suite = describe;
export const it = withVariants((name, fn, options, skip) => addTest(name, fn, options, skip));
export const test = it;

function addHook(kind) {
  return (fn, timeout) => {
    if (!current) throw new Error(`${kind}() outside a test file being collected`);
    current.hooks[kind].push({ fn, timeout });
  };
}
export const beforeAll = addHook('beforeAll');
export const afterAll = addHook('afterAll');
export const beforeEach = addHook('beforeEach');
export const afterEach = addHook('afterEach');

export const vi = new Proxy({}, { get(_t, key) { throw new Error(`the rig's runner has no vi.${String(key)} (suite/vitest-shim.mjs)`); } });
