//! The suite shape of the 0.2 world (`wit/v0.2/tester.wit`), the Rust edition of the
//! suite every SDK implements alike (see `host/tests/suite_structure.rs`): fixtures with
//! a config, a user skip, a comment, docs, a timetrap that fires and one cancelled.
//! Every call appends to `/scratch/order.log`, so the last case can check the order.
//! `SUITE_INIT=fail|skip` and `SUITE_END=fail` make the fixtures fail or skip.

use std::io::Write;
use std::time::Duration;

use guest_sdk::{Config, Context, SuiteResult, break_here, comment, ensure_eq, fail, skip, timetrap};

guest_sdk::test_suite! {
    init: init,
    end: end,
    init_case: init_case,
    end_case: end_case,
    cases: [
        config_passes_through: "init's and init-case's config reach the case",
        skips_itself: "skips itself with a reason",
        leaves_a_comment: "leaves a comment for the report",
        init_case_fails_here,
        timetrap_fires: "a timetrap of 500 ms stops a case that sleeps 5 s",
        cancelled_timetrap_does_not_fire: "a cancelled timetrap lets the case sleep past it",
        order_is_kept: "fixtures and cases ran in suite order",
    ],
}

fn note(line: &str) {
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open("/scratch/order.log").expect("scratch is writable");
    writeln!(log, "{line}").expect("scratch is writable");
}

fn init(_: &Context, config: Config) -> SuiteResult<Config> {
    note("init");
    match std::env::var("SUITE_INIT").as_deref() {
        Ok("fail") => fail!("init was told to fail"),
        Ok("skip") => skip!("init was told to skip"),
        _ => Ok(config.with("init", "done")),
    }
}

fn end(_: &Context, config: &Config) -> SuiteResult {
    note("end");
    ensure_eq!(config.get("init"), Some("done"), "end sees init's config");
    if std::env::var("SUITE_END").as_deref() == Ok("fail") {
        fail!("end was told to fail");
    }
    Ok(())
}

fn init_case(name: &str, _: &Context, config: Config) -> SuiteResult<Config> {
    note(&format!("init_case {name}"));
    if name == "init_case_fails_here" {
        fail!("init-case refuses {name}");
    }
    Ok(config.with("case", name))
}

fn end_case(name: &str, _: &Context, config: &Config) -> SuiteResult {
    note(&format!("end_case {name}"));
    ensure_eq!(config.get("case"), Some(name), "end-case sees init-case's config");
    Ok(())
}

fn config_passes_through(_: &Context, config: &Config) -> SuiteResult {
    note("case config_passes_through");
    ensure_eq!(config.get("init"), Some("done"));
    ensure_eq!(config.get("case"), Some("config_passes_through"));
    ensure_eq!(config.get("package"), Some("suite-shape"));
    Ok(())
}

fn skips_itself(_: &Context, _: &Config) -> SuiteResult {
    note("case skips_itself");
    skip!("not on this platform")
}

fn leaves_a_comment(_: &Context, _: &Config) -> SuiteResult {
    note("case leaves_a_comment");
    comment("first comment");
    // A break is skipped when nobody can be asked (the suite's tests run without a
    // terminal); with a continue file it pauses, and the comment says so.
    let paused = break_here("look at first.dev");
    comment(if paused { "the answer is 42, after a break" } else { "the answer is 42" });
    Ok(())
}

fn init_case_fails_here(_: &Context, _: &Config) -> SuiteResult {
    note("case init_case_fails_here");
    fail!("never runs: its init-case fails")
}

fn timetrap_fires(_: &Context, _: &Config) -> SuiteResult {
    note("case timetrap_fires");
    timetrap::set(Duration::from_millis(500));
    std::thread::sleep(Duration::from_secs(5));
    fail!("the timetrap did not fire")
}

fn cancelled_timetrap_does_not_fire(_: &Context, _: &Config) -> SuiteResult {
    note("case cancelled_timetrap_does_not_fire");
    ensure_eq!(timetrap::scale_factor(), 1.0);
    timetrap::set(Duration::from_millis(300));
    timetrap::cancel();
    std::thread::sleep(Duration::from_millis(400));
    Ok(())
}

fn order_is_kept(_: &Context, _: &Config) -> SuiteResult {
    note("case order_is_kept");
    let log = std::fs::read_to_string("/scratch/order.log")?;
    let expected = "init
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
";
    ensure_eq!(log.as_str(), expected, "the order of calls");
    Ok(())
}
