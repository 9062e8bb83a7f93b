#!/usr/bin/env node
// Build a JavaScript test package into a component of the `tester` world (0.1) or the
// `suite-tester` world (0.2), with componentize-qjs (QuickJS, snapshotted with Wizer,
// non-async runtime).
//
//   node guest-sdk/js/build.js ENTRY.js [--out OUT.wasm] [--wit WIT_DIR] [--world tester|suite-tester]
//
// In a host-package.toml (the host runs it in the package directory):
//   build = ["node", "../../guest-sdk/js/build.js", "app.js", "--out", "{out}", "--wit", "{wit}", "--world", "{world}"]
// and for a 0.2 package (`{world}` is 0.1's `tester`):
//   build = ["node", "../../guest-sdk/js/build.js", "app.js", "--out", "{out}", "--wit", "{wit}", "--world", "suite-tester"]
//
// `--world suite-tester` builds the SDK's world `suite-tester-wasi` (wit-v0.2/suite.wit):
// the 0.2 contract the host hands over in `{wit}/v0.2`, plus the WASI interfaces of
// `wasi.js` (files, sleep, environment), assembled with the WASI packages (wit-v0.2/deps,
// the repository's wit/deps) in a temporary WIT directory.
//
// The module root exposed to the build is the common ancestor of the package and this SDK,
// so the package can import the SDK by a relative path, and the file names in Error stacks
// (`/test-packages/x/app.js`) are paths from that ancestor, which the host resolves.
// The toolchain lives in this directory's node_modules: `npm install --prefix guest-sdk/js`.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK_DIR = path.dirname(fileURLToPath(import.meta.url));
const INSTALL = `npm install --prefix ${SDK_DIR}`;

/** Temporary directories, removed when the process exits (also on SIGTERM and SIGINT). */
const temporary = [];

function cleanUp() {
  for (const dir of temporary.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.on('exit', cleanUp);
process.on('SIGTERM', () => process.exit(143));
process.on('SIGINT', () => process.exit(130));

function die(message, code = 1) {
  process.stderr.write(`host JS SDK build: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const options = { entry: undefined, out: undefined, wit: undefined, world: 'tester' };
  const flags = { '--out': 'out', '-o': 'out', '--wit': 'wit', '-w': 'wit', '--world': 'world', '-n': 'world' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg in flags) {
      if (i + 1 >= argv.length) {
        die(`${arg} needs a value`, 2);
      }
      options[flags[arg]] = argv[++i];
    } else if (arg === '-h' || arg === '--help') {
      process.stdout.write('usage: node build.js ENTRY.js [--out OUT.wasm] [--wit WIT_DIR] [--world tester|suite-tester]\n');
      process.exit(0);
    } else if (arg.startsWith('-')) {
      die(`unknown option ${arg}`, 2);
    } else if (options.entry === undefined) {
      options.entry = arg;
    } else {
      die(`unexpected argument ${arg}`, 2);
    }
  }
  if (options.entry === undefined) {
    die('usage: node build.js ENTRY.js [--out OUT.wasm] [--wit WIT_DIR] [--world tester|suite-tester]', 2);
  }
  return options;
}

/** The deepest directory holding both `a` and `b`. */
function commonAncestor(a, b) {
  const left = a.split(path.sep);
  const right = b.split(path.sep);
  let n = 0;
  while (n < left.length && n < right.length && left[n] === right[n]) {
    n++;
  }
  return left.slice(0, n).join(path.sep) || path.sep;
}

/** The 0.2 contract's world; built as the SDK's world that adds the WASI interfaces of `wasi.js`. */
const SUITE_WORLD = 'suite-tester';
const SDK_SUITE_WORLD = 'suite-tester-wasi';
const SDK_WIT_V2 = path.join(SDK_DIR, 'wit-v0.2');

/** The `.wit` files directly in `dir` (none when it does not exist). */
function witFiles(dir) {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir)
    .filter((name) => name.endsWith('.wit'))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * A WIT directory for the SDK's 0.2 world: `wit-v0.2/suite.wit` as the main package, and
 * in `deps/` the contract of `WIT/v0.2` (`tester.wit` and its own `deps/`, the 0.1
 * contract) and the WASI packages of `wit-v0.2/deps`. componentize-qjs takes one
 * directory, so they are copied into a temporary one (removed when the build ends).
 */
function suiteWitDir(wit) {
  const contract = path.join(wit, 'v0.2', 'tester.wit');
  if (!existsSync(contract)) {
    die(`no 0.2 contract at ${contract}: give --wit the directory the host hands over as {wit} (the repository's wit/)`, 2);
  }
  const wasi = witFiles(path.join(SDK_WIT_V2, 'deps'));
  if (wasi.length === 0) {
    die(`no WASI packages in ${path.join(SDK_WIT_V2, 'deps')} (a link to the repository's wit/deps)`, 2);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'host-js-wit-'));
  temporary.push(dir);
  mkdirSync(path.join(dir, 'deps'));
  copyFileSync(path.join(SDK_WIT_V2, 'suite.wit'), path.join(dir, 'suite.wit'));
  copyFileSync(contract, path.join(dir, 'deps', 'host-test-0.2.wit'));
  for (const file of [...witFiles(path.join(wit, 'v0.2', 'deps')), ...wasi]) {
    copyFileSync(file, path.join(dir, 'deps', path.basename(file)));
  }
  return dir;
}

async function loadToolchain() {
  const installed = path.join(SDK_DIR, 'node_modules', 'componentize-qjs');
  if (!existsSync(installed)) {
    die(`the JavaScript toolchain (componentize-qjs) is not installed in ${SDK_DIR}/node_modules; run \`${INSTALL}\``, 3);
  }
  try {
    const module = await import('componentize-qjs');
    const componentize = module.componentize ?? module.default?.componentize;
    if (typeof componentize !== 'function') {
      throw new Error('componentize-qjs exports no componentize function');
    }
    return componentize;
  } catch (error) {
    die(`cannot load componentize-qjs from ${installed} (${error.message}); reinstall with \`${INSTALL}\``, 3);
  }
}

const options = parseArgs(process.argv.slice(2));
const [major] = process.versions.node.split('.').map(Number);
if (major < 18) {
  die(`Node.js 18 or newer is needed, this is ${process.version}`, 3);
}
const entry = path.resolve(options.entry);
if (!existsSync(entry)) {
  die(`no entry file ${entry}`, 2);
}
const wit = path.resolve(options.wit ?? path.join(SDK_DIR, '..', '..', 'wit'));
if (!existsSync(wit)) {
  die(`no WIT at ${wit} (give --wit DIR)`, 2);
}
const out = path.resolve(options.out ?? entry.replace(/\.[cm]?js$/, '') + '.wasm');
const moduleRoot = commonAncestor(realpathSync(path.dirname(entry)), realpathSync(SDK_DIR));

const componentize = await loadToolchain();
const suite = options.world === SUITE_WORLD;
const witPath = suite ? suiteWitDir(wit) : wit;
const started = Date.now();
let result;
try {
  result = await componentize({
    witPath,
    world: suite ? SDK_SUITE_WORLD : options.world,
    jsSource: readFileSync(entry, 'utf8'),
    jsPath: realpathSync(entry),
    moduleRoot,
    // The host runs components without the component-model async ABI.
    sync: true,
  });
} catch (error) {
  die(`componentize-qjs failed for ${entry}:\n${error.message ?? error}`);
}
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, result.component);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stderr.write(`built ${path.relative(process.cwd(), out) || out} (${result.component.length} bytes) in ${seconds}s\n`);
