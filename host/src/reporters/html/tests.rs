//! The page built from synthetic events: escaping, grouping, flaky cases, scripts, setup
//! failures, parallel tests on the timeline.

use std::time::Duration;

use super::model::Report;
use super::page::render;
use crate::events::{Event, FailureDetail, FailureKind, NodeLogTail, Outcome, Totals};

const HOSTILE: &str = "<script>alert('x')</script>&\"";

fn failure(message: &str) -> FailureDetail {
    FailureDetail { kind: FailureKind::Fail, file: "src/<lib>.rs".into(), line: 16, column: 5, message: message.into() }
}

fn case(test: &str, package: &str, name: &str, outcome: Outcome, attempts: u32, earlier: Vec<FailureDetail>) -> Event {
    Event::CaseFinished {
        test: test.into(),
        package: package.into(),
        case: name.into(),
        outcome,
        duration: Duration::from_millis(12),
        output: format!("\u{1b}[31mred\u{1b}[0m line\n{HOSTILE}\n"),
        attempts,
        earlier_failures: earlier,
    }
}

/// Two tests overlapping in time: `alpha` fails (with a hostile name around), `beta` has a
/// flaky case, a failed script and then a setup failure in a later round-free run.
fn events() -> Vec<(f64, Event)> {
    let failed = Outcome::Failed { failure: failure("line one\nline <two>") };
    vec![
        (1.0, Event::RunStarted { tests: 3, cases: 4, iteration: 1, iterations: 1 }),
        (1.1, Event::TestStarted { test: "alpha".into(), nodes: 1 }),
        (1.2, Event::TestStarted { test: "beta".into(), nodes: 1 }),
        (1.2, Event::NodeStarted { test: "alpha".into(), node: HOSTILE.into(), pid: 7, address: "127.0.0.1:1".into() }),
        (1.3, Event::NodeReady { test: "alpha".into(), node: HOSTILE.into(), after: Duration::from_millis(100), signalled_at: None }),
        (1.3, Event::NodeStarted { test: "beta".into(), node: "b.dev".into(), pid: 8, address: "127.0.0.1:2".into() }),
        (1.4, Event::PackageStarted { test: "alpha".into(), package: "pkg-a".into(), cases: 2 }),
        (1.5, case("alpha", "pkg-a", HOSTILE, failed.clone(), 1, vec![])),
        (1.6, case("alpha", "pkg-a", "later", Outcome::Skipped { reason: "pkg-a <failed>".into() }, 0, vec![])),
        (1.6, Event::PackageFinished { test: "alpha".into(), package: "pkg-a".into(), outcome: failed.clone() }),
        (1.7, case("beta", "pkg-b", "wobbly", Outcome::Passed, 2, vec![failure("first try")])),
        (1.8, Event::ScriptFinished { test: "beta".into(), script: "check.sh".into(), outcome: failed.clone(), output: "oops".into(), duration: Duration::ZERO }),
        (1.9, Event::NodeExited { test: "alpha".into(), node: HOSTILE.into(), status: "signal 15".into(), how: "teardown".into(), took: Duration::from_millis(20) }),
        (1.9, Event::TestFinished {
            test: "alpha".into(),
            outcome: failed.clone(),
            duration: Duration::from_millis(800),
            node_logs: vec![NodeLogTail { node: HOSTILE.into(), lines: vec!["boot <ok>".into(), "bye".into()], log_file: "/nonexistent/output.log".into() }],
        }),
        (2.0, Event::TestFinished { test: "beta".into(), outcome: failed.clone(), duration: Duration::from_millis(800), node_logs: vec![] }),
        (2.1, Event::SetupFailed { test: "gamma".into(), failure: failure("node <g> exited") }),
        (2.2, Event::Warning { message: format!("careful {HOSTILE}") }),
        (2.3, Event::RunFinished {
            totals: Totals { passed: 1, failed: 3, skipped: 1, not_run: 0, flaky: 1 },
            interrupted: false,
            duration: Duration::from_millis(1300),
        }),
    ]
}

fn page() -> String {
    let mut report = Report::default();
    for (at, event) in events() {
        report.apply(at, &event);
    }
    render(&report)
}

#[test]
fn user_text_is_escaped_everywhere() {
    let html = page();
    assert!(!html.contains("<script"), "raw user markup in the page");
    assert!(!html.contains("<two>") && !html.contains("<lib>") && !html.contains("<g>") && !html.contains("<ok>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
    assert!(html.contains("src/&lt;lib&gt;.rs:16:5"));
    assert!(!html.contains('\u{1b}'), "ANSI escapes kept");
}

#[test]
fn summary_results_and_logs_are_shown() {
    let html = page();
    assert!(html.contains("class=\"banner fail\"><span>FAILED</span>"));
    assert!(html.contains("1 passed · 3 failed · 1 skipped · 1 flaky"));
    assert!(html.contains("line one\nline &lt;two&gt;"), "message newlines lost");
    assert!(html.contains("<code>beta/pkg-b/wobbly</code>") && html.contains("badge flaky\">FLAKY"));
    assert!(html.contains("beta/script:check.sh") && html.contains("Setup failed"));
    assert!(html.contains("boot &lt;ok&gt;\nbye"));
    assert!(html.contains("Warnings (1)"));
    assert!(html.contains("<details class=\"output\"><summary>captured output"));
}

#[test]
fn the_timeline_has_a_lane_per_node_and_package_with_overlapping_tests() {
    let html = page();
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    assert!(svg.contains("<tspan fill=\"#8a94a3\">node </tspan>b.dev"));
    assert!(svg.contains("<tspan fill=\"#8a94a3\">pkg </tspan>pkg-a"));
    // The hostile node name is long: cut, with the full name in the tooltip.
    assert!(svg.contains("…</text>") || svg.contains(&super::assets::escape(HOSTILE)));
    assert!(svg.contains(">test alpha</title>") && svg.contains(">test beta</title>"));
    assert!(svg.contains("not started"), "gamma never started");
    assert!(svg.contains(">0.0s</text>") || svg.contains(">0.00s</text>"));
}
