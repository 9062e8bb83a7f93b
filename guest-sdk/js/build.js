#!/usr/bin/env node
// Build a JavaScript test package into a component of the `tester` world, with
// componentize-qjs (QuickJS, snapshotted with Wizer, non-async runtime).
//
//   node guest-sdk/js/build.js ENTRY.js [--out OUT.wasm] [--wit WIT_DIR] [--world tester]
//
// In a host-package.toml (the host runs it in the package directory):
//   build = ["node", "../../guest-sdk/js/build.js", "app.js", "--out", "{out}", "--wit", "{wit}", "--world", "{world}"]
//
// The module root exposed to the build is the common ancestor of the package and this SDK,
// so the package can import the SDK by a relative path, and the file names in Error stacks
// (`/test-packages/x/app.js`) are paths from that ancestor, which the host resolves.
// The toolchain lives in this directory's node_modules: `npm install --prefix guest-sdk/js`.

import { existsSync, readFileSync, realpathSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK_DIR = path.dirname(fileURLToPath(import.meta.url));
const INSTALL = `npm install --prefix ${SDK_DIR}`;

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
      process.stdout.write('usage: node build.js ENTRY.js [--out OUT.wasm] [--wit WIT_DIR] [--world tester]\n');
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
    die('usage: node build.js ENTRY.js [--out OUT.wasm] [--wit WIT_DIR] [--world tester]', 2);
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
const started = Date.now();
let result;
try {
  result = await componentize({
    witPath: wit,
    world: options.world,
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
