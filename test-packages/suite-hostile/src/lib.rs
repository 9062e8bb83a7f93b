//! A 0.2 package that gives the timetrap interface extreme values: the host must neither
//! panic nor let them escape the outer limits (see host/tests/suite_structure.rs).

use std::time::Duration;

use guest_sdk::{Config, Context, SuiteResult, fail, timetrap};

guest_sdk::test_suite! {
    cases: [
        timetrap_past_every_limit: "a timetrap of u64::MAX ms, scaled, is bounded by the outer limit",
        timetrap_of_zero_fires_at_once,
    ],
}

fn timetrap_past_every_limit(_: &Context, _: &Config) -> SuiteResult {
    timetrap::set(Duration::MAX);
    std::thread::sleep(Duration::from_millis(50));
    Ok(())
}

fn timetrap_of_zero_fires_at_once(_: &Context, _: &Config) -> SuiteResult {
    timetrap::set(Duration::ZERO);
    std::thread::sleep(Duration::from_secs(5));
    fail!("the timetrap did not fire")
}
