// Files, sleep and the environment for JavaScript packages of the 0.2 world, over the WASI
// interfaces the SDK's world imports (wit-v0.2/suite.wit): QuickJS under componentize-qjs
// has no file, timer or environment API of its own, and a module sees only what its world
// imports.
//
// Files are those of the sandbox, by absolute path: `/scratch` (the package's read-write
// directory for the run, shared by its fixtures and cases) and `/data` (read-only, when
// tests.toml sets `sandbox.data_dir`). Every call is synchronous; an error throws a
// `FileError` naming the path and WASI's error code (`no-entry`, `not-permitted`, …).

import * as preopens from 'wasi:filesystem/preopens@0.2.12';
import * as monotonicClock from 'wasi:clocks/monotonic-clock@0.2.12';
import * as environment from 'wasi:cli/environment@0.2.12';

import { Failure, callerLocation, show } from './failure.js';

/** A file call failed: `code` is WASI's `error-code` (or `no-directory`), `path` the file. */
export class FileError extends Error {
  /** @param {string} path  @param {string} code  @param {string} [detail] */
  constructor(path, code, detail) {
    super(`${path}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'FileError';
    this.path = path;
    this.code = code;
  }
}

/** The code of an error a WASI call threw: an `error-code` enum, a `stream-error` variant. */
function errorCode(thrown) {
  const payload = thrown?.payload ?? thrown;
  if (typeof payload === 'string') {
    return payload;
  }
  if (payload && typeof payload.tag === 'string') {
    return payload.tag;
  }
  return thrown instanceof Error ? thrown.message : show(thrown);
}

/** Call `fn`; what it throws becomes a `FileError` about `path`. */
function attempt(path, what, fn) {
  try {
    return fn();
  } catch (thrown) {
    if (thrown instanceof FileError) {
      throw thrown;
    }
    throw new FileError(path, errorCode(thrown), what);
  }
}

/** Release a WASI resource now rather than at garbage collection (children before parents). */
function release(resource) {
  const dispose = typeof Symbol.dispose === 'symbol' ? resource?.[Symbol.dispose] : undefined;
  if (typeof dispose === 'function') {
    dispose.call(resource);
  }
}

/** The sandbox's directories, `[descriptor, '/scratch']`…, asked for once per instance. */
let directories;

/** The preopened directory holding absolute `path`, and the path inside it. */
function locate(path) {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new FileError(String(path), 'invalid', 'give an absolute path, such as /scratch/notes.txt');
  }
  directories ??= preopens.getDirectories();
  let best;
  for (const [descriptor, name] of directories) {
    const root = name.replace(/\/+$/, '');
    if ((path.startsWith(`${root}/`) || root === '') && (!best || root.length > best.root.length)) {
      best = { descriptor, root };
    }
  }
  if (!best) {
    const names = directories.map(([, name]) => name).join(', ') || 'none';
    throw new FileError(path, 'no-directory', `the sandbox's directories: ${names}`);
  }
  const inside = path.slice(best.root.length + 1);
  if (inside === '') {
    throw new FileError(path, 'is-directory');
  }
  return { directory: best.descriptor, inside };
}

/** Open `path` with WASI open and descriptor flags; the caller releases it. */
function open(path, openFlags, descriptorFlags) {
  const { directory, inside } = locate(path);
  return attempt(path, 'open', () => directory.openAt({ symlinkFollow: true }, inside, openFlags, descriptorFlags));
}

/** UTF-8 bytes of `text` (a string), or `text` itself when it is a Uint8Array. */
function encode(text) {
  if (text instanceof Uint8Array) {
    return text;
  }
  if (typeof text !== 'string') {
    throw new Failure(`file contents must be a string or a Uint8Array, got ${show(text)}`, callerLocation());
  }
  const bytes = [];
  for (const char of text) {
    let c = char.codePointAt(0);
    if (c >= 0xd800 && c <= 0xdfff) {
      c = 0xfffd; // a lone surrogate
    }
    if (c < 0x80) {
      bytes.push(c);
    } else if (c < 0x800) {
      bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else if (c < 0x10000) {
      bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    } else {
      bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * Text of UTF-8 `bytes`. A malformed sequence becomes one U+FFFD per maximal invalid
 * subpart, as the WHATWG TextDecoder does (QuickJS has none).
 */
function decode(bytes) {
  const parts = [];
  let units = [];
  const emit = (c) => {
    if (c >= 0x10000) {
      units.push(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
    } else {
      units.push(c);
    }
    if (units.length >= 8192) {
      parts.push(String.fromCharCode(...units));
      units = [];
    }
  };
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      emit(b);
      i += 1;
      continue;
    }
    // The lead byte: how many continuation bytes follow, and the range of the first one
    // (narrower after E0, ED, F0, F4: no overlong forms, surrogates or code points past U+10FFFF).
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    const [low, high] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    let c = b & (0x3f >> need);
    let k = 1;
    while (k <= need && i + k < bytes.length) {
      const next = bytes[i + k];
      if (k === 1 ? next < low || next > high : (next & 0xc0) !== 0x80) {
        break;
      }
      c = (c << 6) | (next & 0x3f);
      k++;
    }
    emit(need > 0 && k > need ? c : 0xfffd);
    i += k;
  }
  parts.push(String.fromCharCode(...units));
  return parts.join('');
}

/** Write `bytes` to an output stream, at most 4096 at a time (WASI's blocking-write limit). */
function writeAll(path, stream, bytes) {
  for (let at = 0; at < bytes.length; at += 4096) {
    attempt(path, 'write', () => stream.blockingWriteAndFlush(bytes.subarray(at, at + 4096)));
  }
}

/** The whole file at absolute `path`, as UTF-8 text. */
export function readFile(path) {
  const file = open(path, {}, { read: true });
  try {
    const chunks = [];
    let total = 0;
    for (;;) {
      const [chunk, end] = attempt(path, 'read', () => file.read(65536, total));
      chunks.push(chunk);
      total += chunk.length;
      if (end || chunk.length === 0) {
        break;
      }
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return decode(bytes);
  } finally {
    release(file);
  }
}

/** Write `contents` (text, as UTF-8, or a Uint8Array) to `path`, replacing the file or making it. */
export function writeFile(path, contents) {
  writeThrough(path, contents, { create: true, truncate: true }, 'write', (file) => file.writeViaStream(0));
}

/** Append `contents` (text, as UTF-8, or a Uint8Array) to the end of `path`, making it if needed. */
export function appendFile(path, contents) {
  writeThrough(path, contents, { create: true }, 'append', (file) => file.appendViaStream());
}

/** Open `path` with `flags`, write `contents` through the stream `streamOf(file)` gives, release both. */
function writeThrough(path, contents, flags, verb, streamOf) {
  const bytes = encode(contents);
  const file = open(path, flags, { write: true });
  try {
    const stream = attempt(path, verb, () => streamOf(file));
    try {
      writeAll(path, stream, bytes);
    } finally {
      release(stream);
    }
  } finally {
    release(file);
  }
}

/**
 * Block for `ms` milliseconds (WASI's monotonic clock). The case's limits still apply: a
 * timetrap or the case's timeout ends a sleep that outlasts it.
 */
export function sleep(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new Failure(`sleep(ms): ms must be a non-negative finite number, got ${show(ms)}`, callerLocation());
  }
  const pollable = monotonicClock.subscribeDuration(Math.min(Math.round(ms * 1e6), Number.MAX_SAFE_INTEGER));
  try {
    pollable.block();
  } finally {
    release(pollable);
  }
}

/**
 * The environment the sandbox gives the package (tests.toml's `sandbox.env` and `pass_env`):
 * `env('NAME')` is one variable's value or undefined, `env()` all of them as an object.
 * Read when called: module-level code runs at build time, before any sandbox exists.
 */
export function env(name) {
  const pairs = environment.getEnvironment();
  if (name === undefined) {
    return Object.fromEntries(pairs);
  }
  const found = pairs.findLast(([key]) => key === String(name));
  return found === undefined ? undefined : found[1];
}
