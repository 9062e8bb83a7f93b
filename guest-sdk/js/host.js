// The host interfaces of the contract's 0.1 imports (`log`, `timing`, `nodes`, `events`,
// `control`), which the 0.2 world imports unchanged: logging (and a `console`), the timeout
// scale, and nodes — named ports, events, process control, status, memory, output, nodes
// made from templates. Shared by the 0.1 (`index.js`) and 0.2 (`suite.js`) bindings.

import { log as hostLog } from 'host:test/log@0.1.0';
import * as hostNodes from 'host:test/nodes@0.1.0';
import * as hostEvents from 'host:test/events@0.1.0';
import * as hostControl from 'host:test/control@0.1.0';
import * as hostTiming from 'host:test/timing@0.1.0';

import { Failure, NodeError, callerLocation, show } from './failure.js';

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

/** A `u64` for the host: a Number under QuickJS, a BigInt under SpiderMonkey (see `useU64`). */
let u64 = (n) => n;

/** How `u64` values go to the host: `Number` (QuickJS, the default) or `BigInt` (SpiderMonkey). */
export function useU64(convert) {
  u64 = convert;
}

function toU64(value, what) {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new TypeError(`${what} must be a non-negative integer, got ${show(value)}`);
  }
  return u64(n);
}

/** How long a wait lasts unless told otherwise (the case's deadline still bounds it). */
export const DEFAULT_WAIT_MS = 10_000;

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
// The context of a case

/** What a case gets: the test's node names and its time budget, and the node helpers. */
export class Context {
  /** @param {string[]} nodeNames  @param {number} timeoutSecs */
  constructor(nodeNames, timeoutSecs) {
    /** Names of the test's nodes, in tests.toml order. */
    this.nodeNames = [...nodeNames];
    /** Seconds the package has for this request (already scaled by the host); 0.2: Infinity. */
    this.timeoutSecs = timeoutSecs;
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
