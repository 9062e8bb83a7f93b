// The suite shape of the 0.2 world, the JavaScript edition of the suite every SDK
// implements alike (see host/tests/suite_structure.rs and test-packages/suite-shape):
// fixtures with a config, a user skip, a comment, docs, a timetrap that fires and one
// cancelled. Every call appends to /scratch/order.log, so the last case can check the
// order. SUITE_INIT=fail|skip and SUITE_END=fail make the fixtures fail or skip.
//
// The order log is a real file, as in the Rust and Python editions: the SDK's world
// (guest-sdk/js/wit-v0.2/suite.wit) imports wasi:filesystem, which `appendFile` and
// `readFile` wrap (QuickJS has no file API of its own); `sleep` and `env` wrap
// wasi:clocks and wasi:cli/environment the same way.

import {
  appendFile,
  breakHere,
  comment,
  end,
  endCase,
  ensureEq,
  env,
  fail,
  init,
  initCase,
  readFile,
  skip,
  sleep,
  test,
  timetrap,
} from '../../guest-sdk/js/suite.js';

export { suite } from '../../guest-sdk/js/suite.js';

function note(line) {
  appendFile('/scratch/order.log', `${line}\n`);
}

init((ctx, config) => {
  note('init');
  const mode = env('SUITE_INIT');
  if (mode === 'fail') {
    fail('init was told to fail');
  }
  if (mode === 'skip') {
    skip('init was told to skip');
  }
  return { ...config, init: 'done' };
});

end((ctx, config) => {
  note('end');
  ensureEq(config.init, 'done', "end sees init's config");
  if (env('SUITE_END') === 'fail') {
    fail('end was told to fail');
  }
});

initCase((name, ctx, config) => {
  note(`init_case ${name}`);
  if (name === 'init_case_fails_here') {
    fail(`init-case refuses ${name}`);
  }
  return { ...config, case: name };
});

endCase((name, ctx, config) => {
  note(`end_case ${name}`);
  ensureEq(config.case, name, "end-case sees init-case's config");
});

test(
  'config_passes_through',
  (ctx, config) => {
    note('case config_passes_through');
    ensureEq(config.init, 'done');
    ensureEq(config.case, 'config_passes_through');
    ensureEq(config.package, 'js-suite-shape');
  },
  { doc: "init's and init-case's config reach the case" },
);

test(
  'skips_itself',
  () => {
    note('case skips_itself');
    skip('not on this platform');
  },
  { doc: 'skips itself with a reason' },
);

test(
  'leaves_a_comment',
  () => {
    note('case leaves_a_comment');
    comment('first comment');
    const paused = breakHere('look at first.dev');
    comment(paused ? 'the answer is 42, after a break' : 'the answer is 42');
  },
  { doc: 'leaves a comment for the report' },
);

test('init_case_fails_here', () => {
  note('case init_case_fails_here');
  fail('never runs: its init-case fails');
});

test(
  'timetrap_fires',
  () => {
    note('case timetrap_fires');
    timetrap.set(500);
    sleep(5000);
    fail('the timetrap did not fire');
  },
  { doc: 'a timetrap of 500 ms stops a case that sleeps 5 s' },
);

test(
  'cancelled_timetrap_does_not_fire',
  () => {
    note('case cancelled_timetrap_does_not_fire');
    ensureEq(timetrap.scaleFactor(), 1.0);
    timetrap.set(300);
    timetrap.cancel();
    sleep(400);
  },
  { doc: 'a cancelled timetrap lets the case sleep past it' },
);

const EXPECTED = `init
init_case config_passes_through
case config_passes_through
end_case config_passes_through
init_case skips_itself
case skips_itself
end_case skips_itself
init_case leaves_a_comment
case leaves_a_comment
end_case leaves_a_comment
init_case init_case_fails_here
init_case timetrap_fires
case timetrap_fires
end_case timetrap_fires
init_case cancelled_timetrap_does_not_fire
case cancelled_timetrap_does_not_fire
end_case cancelled_timetrap_does_not_fire
init_case order_is_kept
case order_is_kept
`;

test(
  'order_is_kept',
  () => {
    note('case order_is_kept');
    ensureEq(readFile('/scratch/order.log'), EXPECTED, 'the order of calls');
  },
  { doc: 'fixtures and cases ran in suite order' },
);
