// Failures of a case, and where they happened: `fail`, the `ensure` family and `Failure`
// end a case at the caller's file, line and column (read from the Error stack); anything
// else a case throws becomes a failure at the innermost stack frame of the package's own
// code. Shared by the 0.1 (`index.js`) and 0.2 (`suite.js`) bindings.

// ---------------------------------------------------------------------------------------
// Source locations from Error stacks

// QuickJS: `    at name (/dir/file.js:12:5)` or `    at /dir/file.js:12:5`;
// SpiderMonkey: `name@dir/file.js:12:5`.
const QUICKJS_FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/;
const SPIDERMONKEY_FRAME = /^[^@]*@(.+?):(\d+):(\d+)\s*$/;

/** The frames of `stack` that have a source location, innermost first. */
export function stackFrames(stack) {
  const frames = [];
  for (const line of String(stack ?? '').split('\n')) {
    const match = QUICKJS_FRAME.exec(line) ?? SPIDERMONKEY_FRAME.exec(line);
    if (match) {
      frames.push({ file: match[1], line: Number(match[2]), column: Number(match[3]) });
    }
  }
  return frames;
}

/**
 * This SDK's directory, as the engine names files in stacks (`/guest-sdk/js/`): frames of
 * its modules are never a failure's location.
 */
const SDK_PREFIX = (() => {
  const file = stackFrames(new Error().stack)[0]?.file;
  return file === undefined ? undefined : file.slice(0, file.lastIndexOf('/') + 1);
})();

function isSdkFile(file) {
  return SDK_PREFIX !== undefined && file.startsWith(SDK_PREFIX) && !file.slice(SDK_PREFIX.length).includes('/');
}

/**
 * The path to report for an engine's file name. The build (`build.js`) exposes the common
 * ancestor of the package and this SDK as the module root `/`, so `/test-packages/x/app.js`
 * is relative to an ancestor of the package directory: the host finds the file from there
 * and prints it relative to its working directory.
 */
function reportedFile(file) {
  return file.replace(/^\/+/, '');
}

/** The innermost location of `stack` outside this SDK, or `fallback`. */
export function packageLocation(stack, fallback) {
  // `<input>` and the like are engine-made sources (JSON.parse, eval), not the package's files.
  const frame = stackFrames(stack).find((f) => !isSdkFile(f.file) && !f.file.startsWith('<'));
  if (!frame) {
    return fallback;
  }
  return { file: reportedFile(frame.file), line: frame.line, column: frame.column };
}

/** The location of the package code that called into the SDK. */
export function callerLocation() {
  return packageLocation(new Error().stack, { file: '<unknown>', line: 0, column: 0 });
}

// ---------------------------------------------------------------------------------------
// Failures

/** Ends a case: `fail`, the `ensure` family and a case's `throw new Failure(…)` make one. */
export class Failure extends Error {
  /** @param {string} message  @param {{file: string, line: number, column: number}} [location] */
  constructor(message, location) {
    super(message);
    this.name = 'Failure';
    this.location = location ?? callerLocation();
  }
}

/** End the running case with `message`, at the line that calls `fail`. */
export function fail(message = 'explicit fail()') {
  throw new Failure(String(message), callerLocation());
}

/** Fail the case at this line unless `condition` is truthy. */
export function ensure(condition, message) {
  if (!condition) {
    throw new Failure(message === undefined ? 'condition failed' : `${message} (condition failed)`, callerLocation());
  }
}

/** Fail the case at this line unless `actual` and `expected` are deeply equal. */
export function ensureEq(actual, expected, message) {
  if (!deepEqual(actual, expected)) {
    const what = message === undefined ? '' : `${message}: `;
    throw new Failure(`${what}left ${show(actual)} != right ${show(expected)}`, callerLocation());
  }
}

/** Fail the case at this line if `actual` and `unexpected` are deeply equal. */
export function ensureNe(actual, unexpected, message) {
  if (deepEqual(actual, unexpected)) {
    const what = message === undefined ? '' : `${message}: `;
    throw new Failure(`${what}both sides are ${show(actual)}`, callerLocation());
  }
}

/** Fail the case at this line unless `fn()` throws; returns what it threw. */
export function ensureThrows(fn, message) {
  const location = callerLocation();
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Failure(message === undefined ? 'expected an exception, none was thrown' : message, location);
}

function deepEqual(a, b) {
  if (Object.is(a, b)) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return false;
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) {
    return false;
  }
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
}

/** A value as text for messages: JSON where possible (BigInt as `12n`), strings quoted. */
export function show(value) {
  if (value === undefined) {
    return 'undefined';
  }
  if (typeof value === 'function') {
    return `[function ${value.name || 'anonymous'}]`;
  }
  if (value instanceof Error) {
    return `${value.name}: ${value.message}`;
  }
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A host call about a node did not do what it was asked; `kind` says why. */
export class NodeError extends Error {
  /**
   * @param {'unknown-node'|'not-running'|'timeout'|'terminated'|'invalid'|'failed'} kind
   * @param {string} detail
   */
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.name = 'NodeError';
    this.kind = kind;
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------
// Failures as the WIT's `fail-response`

/** A `fail-response` of the contract: `test`, `file`, `line`, `column`, `message`. */
export function failResponse(test, location, message) {
  const int = (n) => (Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : 0);
  return { test, file: String(location.file), line: int(location.line), column: int(location.column), message: String(message) };
}

/**
 * What a case (or fixture) `test` threw, as a `fail-response`; `declared` is where it was
 * declared, the location of a thrown value that has no stack. Never throws.
 */
export function failureOf(test, declared, thrown) {
  try {
    if (thrown instanceof Failure) {
      return failResponse(test, thrown.location, thrown.message);
    }
    if (thrown instanceof NodeError) {
      return failResponse(test, packageLocation(thrown.stack, declared), thrown.message);
    }
    if (thrown instanceof Error) {
      return failResponse(test, packageLocation(thrown.stack, declared), `uncaught ${thrown.name}: ${thrown.message}`);
    }
    return failResponse(test, declared, `uncaught exception: ${show(thrown)}`);
  } catch (broken) {
    return failResponse(test, declared, `uncaught exception (unprintable: ${broken})`);
  }
}

/** Whether a case returned a Promise (cases run synchronously: host calls block). */
export function isPromise(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}

/** The message for a case or fixture `what` that returned a Promise. */
export function promiseMessage(what) {
  return `${what} returned a Promise: cases run synchronously (host calls block), write it as a plain function`;
}
