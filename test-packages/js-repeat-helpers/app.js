// test_server's repeat helpers (`mOutOfN`, `doTimes`), checked by counting tries;
// `repeat-helpers` is the same package in Rust. The last case fails on purpose:
// host/tests/suite_structure.rs checks its message and line.
import { test, fail, ensureEq, mOutOfN, doTimes } from '../../guest-sdk/js/index.js';

export { suite } from '../../guest-sdk/js/index.js';

test('three_of_five_pass_after_two_failures', () => {
  const tries = [];
  mOutOfN(3, 5, (n) => {
    tries.push(n);
    if (n === 1 || n === 3) {
      fail(`try ${n} refused`);
    }
  });
  ensureEq(tries, [1, 2, 3, 4, 5]);
});

test('stops_once_enough_succeeded', () => {
  const tries = [];
  mOutOfN(2, 10, (n) => tries.push(n));
  ensureEq(tries, [1, 2]);
});

test('do_times_runs_every_try', () => {
  const tries = [];
  doTimes(4, (n) => tries.push(n));
  ensureEq(tries, [1, 2, 3, 4]);
});

test('do_times_stops_at_the_first_error', () => {
  const tries = [];
  try {
    doTimes(5, (n) => {
      tries.push(n);
      if (n === 3) {
        throw new RangeError(`try ${n} refused`);
      }
    });
  } catch (error) {
    ensureEq(error.message, 'try 3 refused');
  }
  ensureEq(tries, [1, 2, 3]);
});

test('too_few_successes_fail_at_the_call', () => {
  // Tries 1 and 2 fail: 2 tries left cannot make 3 successes, so it stops there.
  const attempt = (n) => {
    if (n <= 2) {
      fail(`try ${n} refused`);
    }
  };
  mOutOfN(3, 4, attempt); // the failing call
  fail('mOutOfN did not fail');
});
