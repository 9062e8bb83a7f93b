// kvnode driven from JavaScript through the host interfaces: readiness events, status,
// memory, output lines, restart, and errors as values. (This toolchain has no raw TCP
// sockets, so the KV protocol itself is exercised by the Rust packages.)
import { test, fail, ensure, ensureEq, ensureNe, ensureThrows, Node, NodeError, addNode, info } from '../../guest-sdk/js/index.js';

export { suite } from '../../guest-sdk/js/index.js';

test('every_node_is_ready_on_its_port', (ctx) => {
  const all = ctx.nodes();
  ensureEq(all.map((n) => n.name), ctx.nodeNames, 'nodes in tests.toml order');
  ensure(all.length >= 2, `this package wants two nodes or more, got ${all.length}`);
  for (const { name, port, host, address } of all) {
    ensureEq(address, `${host}:${port}`, `address of ${name}`);
    const ready = ctx.node(name).waitFor('ready');
    ensureEq(ready.data.port, port, `ready port of ${name}`);
    ensureEq(ready.data.name, name, 'ready names its node');
    ensureEq(ready.seq, 0, 'ready is the first event');
    // The same event through a filter on its fields.
    const filtered = ctx.node(name).waitFor('ready', { where: [`port == ${port}`, 'keys >= 0'] });
    ensureEq(filtered.seq, ready.seq);
    info(`${name} ready on ${address} with ${ready.data.keys} keys`);
  }
});

test('nodes_are_running_and_use_memory', (ctx) => {
  const pids = new Set();
  for (const name of ctx.nodeNames) {
    const node = ctx.node(name);
    const status = node.status();
    if (status.state !== 'running') {
      fail(`${name} should be running, it is ${status.state}`);
    }
    ensure(status.pid > 0, `pid of ${name}`);
    pids.add(status.pid);
    const memory = node.memory();
    ensure(memory.rssBytes > 0, `${name} has resident memory`);
    ensure(memory.peakRssBytes >= memory.rssBytes, `peak ${memory.peakRssBytes} >= current ${memory.rssBytes}`);
  }
  ensureEq(pids.size, ctx.nodeNames.length, 'every node is its own process');
});

test('output_names_the_listening_port', (ctx) => {
  for (const { name, port } of ctx.nodes()) {
    const line = ctx.node(name).waitForLine(new RegExp(`listening on .*:${port} `), { timeoutMs: ctx.scaled(5000) });
    ensureEq(line.source, 'stdout');
    ensure(line.text.startsWith(`kvnode ${name} `), line.text);
  }
});

test('restart_emits_a_new_ready_from_the_cursor', (ctx) => {
  const node = ctx.node(ctx.nodeNames[1]);
  const other = ctx.node(ctx.nodeNames[0]);
  const readies = (n) => n.events('beginning', 10_000).filter((e) => e.name === 'ready').length;
  const otherBefore = readies(other);
  const before = node.status();
  const cursor = node.cursor();
  node.restart();
  const ready = node.waitFor('ready', { since: cursor, timeoutMs: ctx.scaled(10_000) });
  ensure(ready.seq >= cursor, `the new ready (${ready.seq}) comes after the cursor (${cursor})`);
  ensureEq(ready.data.port, node.port, 'same port after a restart');
  const after = node.status();
  ensureEq(after.state, 'running');
  ensureNe(after.pid, before.pid, 'a restarted node is a new process');
  // The other node was left alone: no new ready from it (other packages may have
  // restarted it before this one, in the same test).
  ensureEq(readies(other), otherBefore, `readies of ${other.name}`);
});

test('unknown_nodes_and_missed_events_are_error_values', (ctx) => {
  const node = ctx.node(ctx.nodeNames[0]);
  const timeout = ensureThrows(() => node.waitFor('never-emitted', { since: 'now', timeoutMs: 200 }));
  ensure(timeout instanceof NodeError && timeout.kind === 'timeout', `expected a timeout, got ${timeout}`);
  ensure(timeout.detail.includes('never-emitted'), timeout.detail);
  const ghost = new Node({ name: 'ghost.dev' });
  const unknown = ensureThrows(() => ghost.status());
  ensureEq(unknown.kind, 'unknown-node', String(unknown));
  const invalid = ensureThrows(() => node.waitFor('ready', { where: 'port' }));
  ensureEq(invalid.kind, 'invalid', String(invalid));
});

test('named_ports_and_templates_are_checked', (ctx) => {
  const node = ctx.node(ctx.nodeNames[0]);
  ensureEq(node.ports(), [], 'kvnode nodes declare no named ports');
  for (const call of [() => node.portOf('client'), () => node.addressOf('client')]) {
    const invalid = ensureThrows(call);
    ensure(invalid instanceof NodeError && invalid.kind === 'invalid', String(invalid));
  }
  const unknown = ensureThrows(() => new Node({ name: 'ghost.dev' }).ports());
  ensureEq(unknown.kind, 'unknown-node', String(unknown));
  const refused = ensureThrows(() => addNode('no-such-template', 'extra.dev', { extraArgs: ['--verbose'], env: { KV_MODE: 'x' } }));
  ensure(refused instanceof NodeError, String(refused));
  info(`addNode refused as expected: ${refused}`);
});
