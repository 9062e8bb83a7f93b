// Write `host` test packages in JavaScript.
//
// A test package is a WebAssembly component of the `tester` world (wit/tester.wit). This
// module gives a package written in JavaScript:
//
// - `test(name, fn)` (or `test({ name: fn, … })`): the package's named cases, in order;
// - `suite`: the exported `suite` interface (`listCases` / `handle`); the package's entry
//   file re-exports it: `export { suite } from '…/guest-sdk/js/index.js';`
// - `fail(message)`, `ensure`, `ensureEq`, `ensureNe`: end the case with a failure at the
//   caller's file, line and column (read from the Error stack);
// - any exception a case does not catch becomes a failure at the innermost stack frame of
//   the package's own code, with the exception's message;
// - thin wrappers over the host interfaces: `log` (and `console`), `nodes()`, `node(name)`
//   (named ports, events, process control, status, memory, output), `addNode(template,
//   name)` (a node made from a template of tests.toml), `timeoutScale()` / `scaled(ms)`.
//
// Build with `node guest-sdk/js/build.js app.js` (see README.md next to this file).
// Host calls block; cases are plain synchronous functions.

import { log as hostLog } from 'host:test/log@0.1.0';
import * as hostNodes from 'host:test/nodes@0.1.0';
import * as hostEvents from 'host:test/events@0.1.0';
import * as hostControl from 'host:test/control@0.1.0';
import * as hostTiming from 'host:test/timing@0.1.0';

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

/** This file, as the engine names it in stacks: its frames are never the failure's location. */
const SDK_FILE = stackFrames(new Error().stack)[0]?.file;

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
function packageLocation(stack, fallback) {
  // `<input>` and the like are engine-made sources (JSON.parse, eval), not the package's files.
  const frame = stackFrames(stack).find((f) => f.file !== SDK_FILE && !f.file.startsWith('<'));
  if (!frame) {
    return fallback;
  }
  return { file: reportedFile(frame.file), line: frame.line, column: frame.column };
}

/** The location of the package code that called into the SDK. */
function callerLocation() {
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

// ---------------------------------------------------------------------------------------
// Logging

/** Log `message` at `level` (`trace`, `debug`, `info`, `warn`, `error`) into the report. */
export function log(level, ...parts) {
  hostLog(level, parts.map((part) => (typeof part === 'string' ? part : show(part))).join(' '));
}
export const trace = (...parts) => log('trace', ...parts);
export const debug = (...parts) => log('debug', ...parts);
export const info = (...parts) => log('info', ...parts);
export const warn = (...parts) => log('warn', ...parts);
export const error = (...parts) => log('error', ...parts);

// QuickJS has no `console`: give it one that logs into the report.
if (typeof globalThis.console === 'undefined') {
  globalThis.console = { log: info, info, debug, trace, warn, error };
}

// ---------------------------------------------------------------------------------------
// Timing

/** The factor the host multiplied every timeout by (`--timeout-scale`, 1 by default). */
export function timeoutScale() {
  return hostTiming.timeoutScale();
}

/** `ms` times the run's timeout scale: use it for the package's own waits. */
export function scaled(ms) {
  return Math.round(ms * timeoutScale());
}

// ---------------------------------------------------------------------------------------
// Nodes

/** A `u64` for the host: a Number under QuickJS, a BigInt under SpiderMonkey (set by `handle`). */
let u64 = (n) => n;

function toU64(value, what) {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new TypeError(`${what} must be a non-negative integer, got ${show(value)}`);
  }
  return u64(n);
}

/** How long a wait lasts unless told otherwise (the case's deadline still bounds it). */
export const DEFAULT_WAIT_MS = 10_000;

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

/** Call a host function whose WIT result is `result<T, node-error>`: errors become NodeError. */
function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (e) {
    const payload = e?.payload;
    if (payload && typeof payload.tag === 'string') {
      throw new NodeError(payload.tag, String(payload.val));
    }
    throw e;
  }
}

function plainInfo(info) {
  return { name: info.name, host: info.host, port: Number(info.port), address: info.address, home: info.home };
}

/** Every node of the test, in tests.toml order: `{ name, host, port, address, home }`. */
export function nodes() {
  return hostNodes.all().map(plainInfo);
}

/** The node called `name` (a `Node`); a failure at the caller's line when the test has none. */
export function node(name) {
  const info = hostNodes.get(name);
  if (info === null || info === undefined) {
    const names = hostNodes.all().map((n) => n.name).join(', ');
    throw new Failure(`no node named ${show(name)} in this test (nodes: ${names})`, callerLocation());
  }
  return new Node(plainInfo(info));
}

/**
 * Create the node `name` from the template node `template` of tests.toml (`template = true`)
 * and return it (a `Node`). It is not started yet: its ports are known (announce them first
 * if the system needs it), then `start()` boots it and waits until it is ready. The host
 * stops it at the test's end. `extraArgs` are appended to the template's arguments, `env`
 * (an object or `[name, value]` pairs) is set on top of its environment; both may use
 * placeholders (`{port.peer}`, `{address.client:e1}`). A refusal throws `NodeError`.
 */
export function addNode(template, name, { extraArgs = [], env = {} } = {}) {
  const pairs = Array.isArray(env) ? env : Object.entries(env);
  const added = call(hostControl.addNode, String(template), {
    name: String(name),
    extraArgs: extraArgs.map(String),
    env: pairs.map(([key, value]) => [String(key), String(value)]),
  });
  return new Node(plainInfo(added));
}

function position(since) {
  if (since === undefined || since === 'beginning') {
    return { tag: 'beginning' };
  }
  if (since === 'now') {
    return { tag: 'now' };
  }
  return { tag: 'seq', val: toU64(since, 'since') };
}

function plainEvent(event) {
  let data;
  try {
    data = JSON.parse(event.value);
  } catch {
    data = undefined;
  }
  return {
    node: event.node,
    seq: Number(event.seq),
    name: event.name,
    value: event.value,
    data,
    section: event.section,
    timeMs: Number(event.timeMs),
  };
}

const OPERATORS = [
  ['==', 'eq'],
  ['!=', 'ne'],
  ['<=', 'le'],
  ['>=', 'ge'],
  ['<', 'lt'],
  ['>', 'gt'],
];

/**
 * A condition written as `PATH OP VALUE` (OP one of `==`, `!=`, `<`, `<=`, `>`, `>=`; VALUE
 * JSON, a bare word taken as a string): `writes >= 3`, `key == greeting`, `peer.id == "a"`.
 * An object `{ path, op, value }` (value as JSON text) passes through.
 */
export function condition(expression) {
  if (typeof expression === 'object' && expression !== null) {
    return { path: String(expression.path ?? ''), op: expression.op, value: String(expression.value) };
  }
  let best;
  for (const [text, op] of OPERATORS) {
    const index = expression.indexOf(text);
    if (index >= 0 && (!best || index < best.index || (index === best.index && text.length > best.text.length))) {
      best = { index, text, op };
    }
  }
  if (!best) {
    throw new NodeError('invalid', `filter ${show(expression)}: no comparison (==, !=, <, <=, >, >=)`);
  }
  const raw = expression.slice(best.index + best.text.length).trim();
  const looksLikeJson = /^["{[\-0-9]/.test(raw) || ['true', 'false', 'null'].includes(raw);
  return {
    path: expression.slice(0, best.index).trim(),
    op: best.op,
    value: looksLikeJson ? raw : JSON.stringify(raw),
  };
}

function status(raw) {
  switch (raw.tag) {
    case 'running':
    case 'stopped':
      return { state: raw.tag, pid: Number(raw.val) };
    default:
      return { state: 'exited', exit: exitStatus(raw.val) };
  }
}

function exitStatus(raw) {
  return { code: raw.code ?? null, signal: raw.signal ?? null, description: raw.description };
}

function namedPort(node, name) {
  const ports = node.ports();
  const found = ports.find((p) => p.name === name);
  if (!found) {
    const known = ports.map((p) => p.name).join(', ') || 'none declared';
    throw new NodeError('invalid', `node ${node.name} has no port named ${show(name)} (its ports: ${known})`);
  }
  return found;
}

/**
 * A node of the test: its `name`, `host`, `port`, `address` (its first port), `home`, its
 * named ports (`portOf`, `addressOf`, `ports`), and what can be done to it.
 */
export class Node {
  constructor(info) {
    Object.assign(this, info);
  }

  /**
   * The node's named ports (`ports = ["client", "peer"]` in tests.toml), in that order:
   * `[{ name, port, address }]`; empty when it declares none.
   */
  ports() {
    return call(hostNodes.ports, this.name).map((p) => ({ name: p.name, port: Number(p.port), address: p.address }));
  }

  /** The TCP port the host picked for the node's port called `name`; NodeError `invalid` if none. */
  portOf(name) {
    return namedPort(this, name).port;
  }

  /** `host:port` of the node's port called `name` (`node('e1').addressOf('client')`). */
  addressOf(name) {
    return namedPort(this, name).address;
  }

  /**
   * The first event `event` whose value meets every condition, waiting up to `timeoutMs`.
   * `since`: `'beginning'` (default: the node's whole life), `'now'`, or a sequence number
   * (from `cursor()` or an event). `where`: a condition or a list of them (see `condition`).
   * Returns `{ node, seq, name, value (JSON text), data (parsed), section, timeMs }`.
   */
  waitFor(event, { where = [], since = 'beginning', timeoutMs = DEFAULT_WAIT_MS } = {}) {
    const conditions = (Array.isArray(where) ? where : [where]).map(condition);
    return plainEvent(
      call(hostEvents.waitFor, this.name, event, conditions, position(since), toU64(timeoutMs, 'timeoutMs')),
    );
  }

  /** The sequence number of the node's next event: `waitFor(…, { since: cursor })`. */
  cursor() {
    return Number(call(hostEvents.cursor, this.name));
  }

  /** Up to `max` recorded events from `since`, without waiting. */
  events(since = 'beginning', max = 1000) {
    return call(hostEvents.read, this.name, position(since), max).map(plainEvent);
  }

  /** SIGTERM, then SIGKILL after `graceMs`: `{ code, signal, description }`. */
  terminate(graceMs = 5000) {
    return exitStatus(call(hostControl.terminate, this.name, toU64(graceMs, 'graceMs')));
  }

  /** SIGKILL now: `{ code, signal, description }`. */
  kill() {
    return exitStatus(call(hostControl.kill, this.name));
  }

  /** SIGSTOP: the node freezes, its connections stay open. */
  stop() {
    call(hostControl.stop, this.name);
  }

  /** SIGCONT: a stopped node goes on. */
  resume() {
    call(hostControl.resume, this.name);
  }

  /** Start a node that is not running (an exited one again, same home, or one made by `addNode`); returns once it is ready. */
  start() {
    call(hostControl.start, this.name);
  }

  /** Terminate, start, wait until ready. */
  restart() {
    call(hostControl.restart, this.name);
  }

  /** `{ state: 'running'|'stopped', pid }` or `{ state: 'exited', exit: { code, signal, description } }`. */
  status() {
    return status(call(hostControl.status, this.name));
  }

  /** `{ peakRssBytes, rssBytes }` of the running node. */
  memory() {
    const usage = call(hostControl.memory, this.name);
    return { peakRssBytes: Number(usage.peakRssBytes), rssBytes: Number(usage.rssBytes) };
  }

  /** Up to `max` output lines with a sequence number of `from` or more: `{ seq, source, text }`. */
  output(from = 0, max = 1000) {
    return call(hostControl.output, this.name, toU64(from, 'from'), max).map((line) => ({
      seq: Number(line.seq),
      source: line.source,
      text: line.text,
    }));
  }

  /** The first output line at or after `from` matching `pattern` (a RegExp or its source). */
  waitForLine(pattern, { from = 0, timeoutMs = DEFAULT_WAIT_MS } = {}) {
    const source = pattern instanceof RegExp ? pattern.source : String(pattern);
    const line = call(hostControl.waitForLine, this.name, source, toU64(from, 'from'), toU64(timeoutMs, 'timeoutMs'));
    return { seq: Number(line.seq), source: line.source, text: line.text };
  }
}

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

/** What a case gets: the request's node names and time budget, and the node helpers. */
class Context {
  constructor(run) {
    /** Names of the test's nodes, in tests.toml order. */
    this.nodeNames = [...run.inputNodeNames];
    /** Seconds the package has for this request (already scaled by the host). */
    this.timeoutSecs = Number(run.testTimeout);
  }
  nodes() {
    return nodes();
  }
  node(name) {
    return node(name);
  }
  timeoutScale() {
    return timeoutScale();
  }
  scaled(ms) {
    return scaled(ms);
  }
}

function failResponse(test, location, message) {
  const int = (n) => (Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : 0);
  return { test, file: String(location.file), line: int(location.line), column: int(location.column), message: String(message) };
}

/** What a case threw, as a fail-response. */
function failureOf(test, declared, thrown) {
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
}

function runCase(entry, context) {
  try {
    const result = entry.fn(context);
    if (result && typeof result.then === 'function') {
      return failResponse(
        entry.name,
        entry.location,
        'the case returned a Promise: cases run synchronously (host calls block), write it as a plain function',
      );
    }
    return null;
  } catch (thrown) {
    try {
      return failureOf(entry.name, entry.location, thrown);
    } catch (broken) {
      return failResponse(entry.name, entry.location, `uncaught exception (unprintable: ${broken})`);
    }
  }
}

function listCases() {
  return cases.map((c) => c.name);
}

function handle(request) {
  const run = request.val;
  u64 = typeof run.testTimeout === 'bigint' ? BigInt : Number;
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
  const context = new Context(run);
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
