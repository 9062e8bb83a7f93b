// Write `host` test packages of the 0.2 world (`suite-tester`, wit/v0.2/tester.wit) in
// JavaScript: fixtures with a config, skips with a reason, comments, docs and timetraps —
// Erlang test_server's suite shape.
//
//   import { test, init, skip, comment, timetrap, ensureEq } from '../../guest-sdk/js/suite.js';
//   export { suite } from '../../guest-sdk/js/suite.js';    // the world's `suite` export
//
//   init((ctx, config) => ({ ...config, key: 'k1' }));
//   test('reads_back', (ctx, config) => { ensureEq(config.key, 'k1'); }, { doc: 'a write is read back' });
//
// The host drives the order of calls (`init`, then `initCase`, the case and `endCase` for
// each case, then `end`) and does the accounting; this module only maps those calls to the
// package's functions. A config is a plain object of strings (the WIT's
// `list<tuple<string, string>>`, in order); `init` and `initCase` return the next one (an
// object, a Map or `[key, value]` pairs). Everything `index.js` offers 0.1 packages but
// its `test` and `suite` is re-exported here, with the files, `sleep` and `env` of `wasi.js`.
// Build with `build.js --world suite-tester` (see README.md next to this file).

import { comment as hostComment } from 'host:test/annotate@0.2.0';
import { breakHere as hostBreakHere } from 'host:test/breaks@0.2.0';
import * as hostTimetrap from 'host:test/timetrap@0.2.0';

import { Failure, callerLocation, failResponse, failureOf, isPromise, promiseMessage, show } from './failure.js';
import { Context, nodes } from './host.js';

export { Failure, NodeError, ensure, ensureEq, ensureNe, ensureThrows, fail, show, stackFrames } from './failure.js';
export { doTimes, mOutOfN } from './repeat.js';
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
export { FileError, appendFile, env, readFile, sleep, writeFile } from './wasi.js';

// ---------------------------------------------------------------------------------------
// Skips, comments, timetraps

/** Thrown by `skip(reason)`: a user skip of the case (from `init`: of every case). */
export class Skip extends Error {
  /** @param {string} reason */
  constructor(reason) {
    super(reason);
    this.name = 'Skip';
    this.reason = reason;
  }
}

/** Skip the running case with `reason` (from `init`: every case of the package). */
export function skip(reason) {
  throw new Skip(String(reason));
}

/** Leave a comment on the running case, shown in every report; the last one wins. */
export function comment(text) {
  hostComment(String(text));
}

/**
 * Pause the running case until the person running the host says to go on (test_server's
 * `break/1`): the host shows `comment` with the test's nodes and how to go on, cancels the
 * timetrap and stops the case's time meanwhile. True once told to go on; false at once
 * when nobody can be asked (no terminal and no `--continue-file`, as in CI), and the
 * case's output says the break was skipped.
 */
export function breakHere(comment) {
  return hostBreakHere(String(comment));
}

/** test_server's timetraps, from inside a case; the outer limits still bound everything. */
export const timetrap = {
  /** The running case fails if it runs longer than `ms` milliseconds (times the scale factor) from now. */
  set(ms) {
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new Failure(`timetrap.set(ms): ms must be a non-negative number, got ${show(ms)}`, callerLocation());
    }
    hostTimetrap.set(Math.min(Math.floor(ms), Number.MAX_SAFE_INTEGER));
  },
  /** Remove the timetrap; the outer limits stay. */
  cancel() {
    hostTimetrap.cancel();
  },
  /** The factor every timeout of the run is multiplied by (`--timeout-scale`). */
  scaleFactor() {
    return hostTimetrap.scaleFactor();
  },
};

// ---------------------------------------------------------------------------------------
// Cases and fixtures

/** The package's cases, in declaration order: `{ name, doc, fn, location }`. */
const cases = [];

/** The package's fixtures, each `{ fn, location }` once declared. */
const fixtures = { init: undefined, end: undefined, initCase: undefined, endCase: undefined };

/**
 * Declare a case: `test('name', (ctx, config) => { … }, { doc: 'what it checks' })`. Cases
 * run in declaration order; the doc (one line, optional) shows in reports and
 * `host list --verbose`.
 */
export function test(name, fn, options = {}) {
  const location = callerLocation();
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`test(name, fn): the name must be a non-empty string, got ${show(name)}`);
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`test(${show(name)}, fn): fn must be a function, got ${show(fn)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`test(${show(name)}, fn, options): options must be an object such as { doc: '…' }, got ${show(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => key !== 'doc');
  if (unknown.length > 0) {
    throw new TypeError(`test(${show(name)}, fn, options): unknown option ${show(unknown[0])} (the one option is doc)`);
  }
  const doc = options.doc ?? '';
  if (typeof doc !== 'string') {
    throw new TypeError(`test(${show(name)}): doc must be a string, got ${show(doc)}`);
  }
  if (cases.some((c) => c.name === name)) {
    throw new TypeError(`test(${show(name)}): a case of that name is already declared`);
  }
  cases.push({ name, doc, fn, location });
}

function declareFixture(kind, fn, location) {
  if (typeof fn !== 'function') {
    throw new TypeError(`${kind}(fn): fn must be a function, got ${show(fn)}`);
  }
  if (fixtures[kind] !== undefined) {
    throw new TypeError(`${kind}(fn): the package already declares its ${kind}`);
  }
  fixtures[kind] = { fn, location };
}

/** `init((ctx, config) => config)`: once before the cases; returns the config they get. */
export function init(fn) {
  declareFixture('init', fn, callerLocation());
}

/** `end((ctx, config) => { … })`: once after the cases, also after a failure. */
export function end(fn) {
  declareFixture('end', fn, callerLocation());
}

/** `initCase((name, ctx, config) => config)`: before each case; returns the config it gets. */
export function initCase(fn) {
  declareFixture('initCase', fn, callerLocation());
}

/** `endCase((name, ctx, config) => { … })`: after each case, whatever its outcome. */
export function endCase(fn) {
  declareFixture('endCase', fn, callerLocation());
}

// ---------------------------------------------------------------------------------------
// Configs

/** A config from the host (`[[key, value]]`) as a plain object; a later key wins. */
function configObject(pairs) {
  return Object.fromEntries(pairs);
}

/**
 * The config a fixture `what` returned, as the WIT's pairs: a plain object, a Map or
 * `[key, value]` pairs, keys strings, values strings (numbers, booleans and BigInts are
 * written as text). Anything else is a failure at the fixture's declaration.
 */
function configPairs(value, what, location) {
  const bad = (problem) => new Failure(`${what} returned ${problem}: return the config (an object or a Map of strings)`, location);
  let entries;
  if (value instanceof Map || Array.isArray(value)) {
    entries = [...value];
  } else if (typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    entries = Object.entries(value);
  } else {
    throw bad(show(value));
  }
  return entries.map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw bad(`a config whose entry ${show(entry)} is not a [string, value] pair`);
    }
    const [key, v] = entry;
    if (typeof v === 'string') {
      return [key, v];
    }
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
      return [key, String(v)];
    }
    throw bad(`a config whose value of ${show(key)} is ${show(v)}, not a string`);
  });
}

// ---------------------------------------------------------------------------------------
// The `suite` export

/** The context of a 0.2 call: the test's nodes; no request timeout (timetraps and the host bound it). */
function context() {
  return new Context(nodes().map((n) => n.name), Infinity);
}

/** A `stop` of the WIT (thrown: componentize-qjs turns it into the result's `err`). */
function stopOf(name, location, thrown) {
  if (thrown instanceof Skip) {
    return { tag: 'skip', val: thrown.reason };
  }
  return { tag: 'fail', val: failureOf(name, location, thrown) };
}

/**
 * Call `fn(...args)` for the call named `name` (a case, `init` or `end`) declared at
 * `location`: its value, or a thrown `stop`.
 */
function call(name, what, location, fn, ...args) {
  let value;
  try {
    value = fn(...args);
  } catch (thrown) {
    throw stopOf(name, location, thrown);
  }
  if (isPromise(value)) {
    throw { tag: 'fail', val: failResponse(name, location, promiseMessage(what)) };
  }
  return value;
}

/** A fixture's returned config as pairs, or a thrown `stop` at its declaration. */
function returnedConfig(name, what, location, value) {
  try {
    return configPairs(value, what, location);
  } catch (thrown) {
    throw stopOf(name, location, thrown);
  }
}

const NOWHERE = { file: '<request>', line: 0, column: 0 };

function listCases() {
  return cases.map((c) => ({ name: c.name, doc: c.doc }));
}

function runInit(config) {
  const fixture = fixtures.init;
  if (!fixture) {
    return config;
  }
  const value = call('init', 'init', fixture.location, fixture.fn, context(), configObject(config));
  return returnedConfig('init', 'init', fixture.location, value);
}

function runInitCase(name, config) {
  const fixture = fixtures.initCase;
  if (!fixture) {
    return config;
  }
  const value = call(name, 'initCase', fixture.location, fixture.fn, name, context(), configObject(config));
  return returnedConfig(name, 'initCase', fixture.location, value);
}

function runCase(name, config) {
  const entry = cases.find((c) => c.name === name);
  if (!entry) {
    // The host asks only for listed names: a last line of defence.
    throw { tag: 'fail', val: failResponse(name, NOWHERE, `no case named ${show(name)}`) };
  }
  call(name, 'the case', entry.location, entry.fn, context(), configObject(config));
}

function runEndCase(name, config) {
  const fixture = fixtures.endCase;
  if (fixture) {
    call(name, 'endCase', fixture.location, fixture.fn, name, context(), configObject(config));
  }
}

function runEnd(config) {
  const fixture = fixtures.end;
  if (fixture) {
    call('end', 'end', fixture.location, fixture.fn, context(), configObject(config));
  }
}

/** The `suite` interface of the `suite-tester` world: the entry file re-exports it. */
export const suite = {
  listCases,
  init: runInit,
  initCase: runInitCase,
  runCase,
  endCase: runEndCase,
  end: runEnd,
};
