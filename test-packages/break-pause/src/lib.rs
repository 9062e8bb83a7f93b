//! A case that pauses itself for a person (`break_here`, test_server's `break/1`), driven
//! by `host/tests/breaks.rs`: the break outlasts the case's timetrap, the case's timeout
//! and the test's timeout, and none of them fires — a break stops the case's time and the
//! test's. The second case shows the test still has its time after the break.

use std::time::Duration;

use guest_sdk::{Config, Context, SuiteResult, break_here, ensure, timetrap};

guest_sdk::test_suite! {
    cases: [
        pauses_past_its_limits: "a break outlasts the case's timetrap and timeouts, and the case goes on",
        has_time_after_the_break: "the test's time stopped too: a later case still has its time",
    ],
}

fn pauses_past_its_limits(_: &Context, _: &Config) -> SuiteResult {
    timetrap::set(Duration::from_millis(300));
    let paused = break_here("pausing past a 300 ms timetrap");
    ensure!(paused, "break_here returned false: the host had no way to go on");
    Ok(())
}

fn has_time_after_the_break(_: &Context, _: &Config) -> SuiteResult {
    std::thread::sleep(Duration::from_millis(300));
    Ok(())
}
