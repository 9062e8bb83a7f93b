// Write `host` test packages in JavaScript: the 0.1 world (`tester`, wit/tester.wit).
//
// A test package is a WebAssembly component of the `tester` world. This module gives a
// package written in JavaScript:
//
// - `test(name, fn)` (or `test({ name: fn, … })`): the package's named cases, in order;
// - `suite`: the exported `suite` interface (`listCases` / `handle`); the package's entry
//   file re-exports it: `export { suite } from '…/guest-sdk/js/index.js';`
// - `fail(message)`, `ensure`, `ensureEq`, `ensureNe`: end the case with a failure at the
//   caller's file, line and column (read from the Error stack; `failure.js`);
// - any exception a case does not catch becomes a failure at the innermost stack frame of
//   the package's own code, with the exception's message;
// - thin wrappers over the host interfaces (`host.js`): `log` (and `console`), `nodes()`,
//   `node(name)` (named ports, events, process control, status, memory, output),
//   `addNode(template, name)` (a node made from a template of tests.toml),
//   `timeoutScale()` / `scaled(ms)`.
//
// Packages of the 0.2 world (`suite-tester`: fixtures, skips, comments, timetraps) import
// `suite.js` instead. Build with `node guest-sdk/js/build.js app.js` (see README.md next
// to this file). Host calls block; cases are plain synchronous functions.

import { callerLocation, failResponse, failureOf, isPromise, promiseMessage, show } from './failure.js';
export { doTimes, mOutOfN } from './repeat.js';
import { Context, useU64 } from './host.js';

export {
  Failure,
  NodeError,
  ensure,
  ensureEq,
  ensureNe,
  ensureThrows,
  fail,
  show,
  stackFrames,
} from './failure.js';
export {
  DEFAULT_WAIT_MS,
  Node,
  addNode,
  condition,
  debug,
  error,
  info,
  log,
  node,
  nodes,
  scaled,
  timeoutScale,
  trace,
  warn,
} from './host.js';

// ---------------------------------------------------------------------------------------
// Cases and the `suite` export

const cases = [];

function declare(name, fn, location) {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`test(name, fn): the name must be a non-empty string, got ${show(name)}`);
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`test(${show(name)}, fn): fn must be a function, got ${show(fn)}`);
  }
  if (cases.some((c) => c.name === name)) {
    throw new TypeError(`test(${show(name)}): a case of that name is already declared`);
  }
  cases.push({ name, fn, location });
}

/**
 * Declare a named case: `test('name', (ctx) => { … })`, or several at once from an object
 * of functions, in property order: `test({ first(ctx) { … }, second(ctx) { … } })`.
 */
export function test(name, fn) {
  const location = callerLocation();
  if (typeof name === 'object' && name !== null && fn === undefined) {
    for (const [key, value] of Object.entries(name)) {
      declare(key, value, location);
    }
  } else {
    declare(name, fn, location);
  }
}

/** Run one case; its failure as a `fail-response`, or null when it passed. */
function runCase(entry, context) {
  try {
    const result = entry.fn(context);
    if (isPromise(result)) {
      return failResponse(entry.name, entry.location, promiseMessage('the case'));
    }
    return null;
  } catch (thrown) {
    return failureOf(entry.name, entry.location, thrown);
  }
}

function listCases() {
  return cases.map((c) => c.name);
}

function handle(request) {
  const run = request.val;
  useU64(typeof run.testTimeout === 'bigint' ? BigInt : Number);
  const selected = [];
  if (run.testNames.length === 0) {
    selected.push(...cases);
  } else {
    for (const name of run.testNames) {
      const entry = cases.find((c) => c.name === name);
      if (!entry) {
        const known = listCases().join(', ');
        const failure = failResponse(name, { file: '<request>', line: 0, column: 0 }, `no case named ${show(name)} (cases: ${known})`);
        return { tag: 'run', val: { tag: 'err', val: failure } };
      }
      selected.push(entry);
    }
  }
  const context = new Context(run.inputNodeNames, Number(run.testTimeout));
  for (const entry of selected) {
    const failure = runCase(entry, context);
    if (failure) {
      return { tag: 'run', val: { tag: 'err', val: failure } };
    }
  }
  return { tag: 'run', val: { tag: 'ok', val: undefined } };
}

/** The `suite` interface of the `tester` world: the entry file re-exports it. */
export const suite = { listCases, handle };
