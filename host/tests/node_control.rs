//! Packages drive and observe real nodes through the `events` and `control` interfaces.

mod common;

use common::{declared_cases, node_suite, run_in, totals};

#[test]
fn every_control_call_and_event_wait_works_from_inside_the_sandbox() {
    let dir = node_suite("control", "node-control", &["first.dev", "second.dev"]);
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let cases = declared_cases("node-control");
    assert_eq!(totals(&run.stdout), (cases.len(), 0, 0), "{}", run.both());
    for case in cases {
        assert!(run.stdout.contains(&"PASS [".to_string()) && run.stdout.contains(&format!("control/node-control/{case}")), "{case}:\n{}", run.both());
    }
}
