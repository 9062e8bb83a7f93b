// Failures on purpose, for host's tests (host/tests/lang_js.rs): each reports the line
// marked below and its exact message.
import { test, fail, nodes } from '../../guest-sdk/js/index.js';

export { suite } from '../../guest-sdk/js/index.js';

test('fails_with_message', () => {
  const count = nodes().length;
  fail(`the answer is 42 but ${count} nodes were given`); // MARK: fail
});

test('throws_an_uncaught_error', () => {
  const store = { keys: ['greeting'] };
  lookup(store, 'missing');
});

function lookup(store, key) {
  if (!store.keys.includes(key)) {
    throw new RangeError(`no key ${key} among ${store.keys.length}`); // MARK: throw
  }
}
