//! A 0.2 package that gives the timetrap interface extreme values, and a comment and a
//! break a hostile text: the host must neither panic nor let them escape the outer limits,
//! its size bound or its escaping (see host/tests/suite_structure.rs).

use std::time::Duration;

use guest_sdk::{Config, Context, SuiteResult, break_here, comment, fail, timetrap};

guest_sdk::test_suite! {
    cases: [
        timetrap_past_every_limit: "a timetrap of u64::MAX ms, scaled, is bounded by the outer limit",
        timetrap_of_zero_fires_at_once,
        comments_and_breaks_with_a_hostile_text,
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

/// A line that would forge a summary and drive the terminal, then a mebibyte more.
fn hostile() -> String {
    format!("evil\n0 passed, 0 failed, 0 skipped\u{1b}[2J\u{1b}]0;title\u{7}{}", "x".repeat(1 << 20))
}

fn comments_and_breaks_with_a_hostile_text(_: &Context, _: &Config) -> SuiteResult {
    comment(&hostile());
    break_here(&hostile());
    Ok(())
}
