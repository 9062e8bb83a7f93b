//! The page built from synthetic events and read back through a real HTML parser:
//! escaping, totals, the failures list and where it links, flaky cases, scripts, setup
//! failures, node logs, and the timeline's lanes.

use std::time::Duration;

use super::model::Report;
use super::page::render;
#[path = "../../../tests/common/html_dom.rs"]
mod html_dom;
use html_dom::{Element, Page};
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
        rewritten: None,
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
        (1.6, case("alpha", "pkg-a", "later", Outcome::auto_skip("pkg-a <failed>"), 0, vec![])),
        (1.6, Event::PackageFinished { test: "alpha".into(), package: "pkg-a".into(), outcome: failed.clone() }),
        (1.7, case("beta", "pkg-b", "wobbly", Outcome::Passed, 2, vec![failure("first try")])),
        (1.8, Event::ScriptFinished { test: "beta".into(), script: "check.sh".into(), outcome: failed.clone(), output: "oops".into(), duration: Duration::ZERO }),
        (1.45, Event::NetworkFault { test: "alpha".into(), action: "isolate".into(), nodes: vec![HOSTILE.into()], detail: format!("{HOSTILE} cut off") }),
        (1.85, Event::NetworkFault { test: "alpha".into(), action: "heal".into(), nodes: vec![HOSTILE.into()], detail: "the test ended".into() }),
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
            totals: Totals { passed: 1, failed: 3, skipped: 1, auto_skipped: 1, not_run: 0, flaky: 1, ..Totals::default() },
            interrupted: false,
            duration: Duration::from_millis(1300),
            rounds: 1,
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

/// Every element the page's templates write: anything else came from user text.
const OUR_ELEMENTS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "nav", "a", "section", "div", "span", "strong",
    "ul", "li", "code", "p", "pre", "table", "colgroup", "col", "thead", "tbody", "tr", "th", "td", "details", "summary",
    // The timeline.
    "svg", "defs", "clipPath", "rect", "g", "text", "tspan", "line",
];

fn parsed() -> Page {
    Page::parse(&page())
}

/// The value of the summary card labelled `label`.
fn card(page: &Page, label: &str) -> String {
    let cards: Vec<Element> = page.select("#summary .cards .card").into_iter().filter(|c| c.one(".l").text() == label).collect();
    assert_eq!(cards.len(), 1, "one card {label:?}");
    cards[0].one(".n").text()
}

#[test]
fn the_page_parses_without_errors_and_has_only_its_own_elements() {
    let page = parsed();
    assert_eq!(page.errors(), Vec::<String>::new(), "html5ever found the page malformed");
    for element in page.root().descendants() {
        let name = element.name().unwrap();
        assert!(OUR_ELEMENTS.contains(&name.as_str()), "<{name}> is not an element of the templates: user text became markup");
        let attributes = ["onclick", "onload", "onerror", "onmouseover"];
        assert!(attributes.iter().all(|a| element.attr(a).is_none()), "an event handler attribute on <{name}>");
    }
    let svg = page.one("svg");
    assert!(page.select("g").iter().all(|g| svg.contains(g)), "a <g> outside the timeline (from user text)");
}

#[test]
fn hostile_text_is_shown_as_text_wherever_it_appears() {
    let page = parsed();
    assert!(page.select("script").is_empty(), "a package's <script> became an element");
    let hostile_case = format!("alpha/pkg-a/{HOSTILE}");
    let ids: Vec<String> = page.select("#results tr code").iter().map(Element::text).collect();
    assert!(ids.contains(&hostile_case), "the hostile case id is not shown as text in the results: {ids:?}");
    let failure = page.one("#t0-p0-c0");
    assert_eq!(failure.one("code").text(), hostile_case);
    // Its log tail, its timeline lane (cut, the whole name in the tooltip) and the warning.
    let log = page.one("details.log");
    assert!(log.one("summary").text().starts_with(&format!("{HOSTILE} — last 2 lines")), "{}", log.text());
    assert_eq!(log.one("pre").text(), "boot <ok>\nbye");
    let lane = &page.select("svg g.lane.node")[0];
    assert_eq!(lane.one("text title").text(), HOSTILE);
    assert_eq!(page.one("ul.warnings li").text(), format!("careful {HOSTILE}"));
    // Captured output: the ANSI colour sequence is gone, the markup is text.
    let outputs: Vec<String> = page.select("details.output pre").iter().map(Element::text).collect();
    assert!(outputs.contains(&format!("red line\n{HOSTILE}\n")), "{outputs:?}");
    assert!(!page.root().text().contains('\u{1b}'), "an escape character reached the page");
}

#[test]
fn the_summary_shows_the_verdict_and_the_run_totals() {
    let page = parsed();
    let banner = page.one("#summary .banner");
    assert!(banner.has_class("fail"), "a failed run has a red banner");
    assert_eq!(banner.children()[0].text(), "FAILED");
    assert!(banner.one(".sub").text().starts_with("1 passed · 3 failed · 1 skipped · 1 flaky — in 1.300s"), "{}", banner.text());
    let counts: Vec<(&str, String)> =
        ["passed", "failed", "skipped", "not run", "flaky", "tests", "interrupted"].iter().map(|l| (*l, card(&page, l))).collect();
    let expected = [("passed", "1"), ("failed", "3"), ("skipped", "1"), ("not run", "0"), ("flaky", "1"), ("tests", "3"), ("interrupted", "no")];
    assert_eq!(counts, expected.map(|(l, n)| (l, n.to_string())).to_vec());
    assert_eq!(page.one("head title").text(), "FAILED · host test report");
}

#[test]
fn each_failure_is_listed_with_its_first_line_and_links_to_its_location_and_message() {
    let page = parsed();
    let list = page.one("#summary .failures");
    assert_eq!(list.one("strong").text(), "Failures (3)");
    let items = list.select("li");
    let listed: Vec<(String, String)> = items.iter().map(|li| (li.one("code").text(), li.one(".muted").text())).collect();
    assert_eq!(
        listed,
        vec![
            (format!("alpha/pkg-a/{HOSTILE}"), "line one".to_string()),
            ("beta/script:check.sh".to_string(), "line one".to_string()),
            ("gamma (setup failed)".to_string(), "node <g> exited".to_string()),
        ]
    );
    // Each link leads to the failure itself: its row, then the detail with file:line:column
    // and the whole message.
    for li in &items {
        let href = li.one("a").attr("href").unwrap();
        let target = page.one(&href);
        assert!(matches!(target.name().as_deref(), Some("tr" | "div")), "{href} leads to <{:?}>", target.name());
    }
    let details = page.select("#results tr.detail .failure");
    let first = &details[0];
    assert_eq!(first.one(".kind").text(), "fail");
    assert_eq!(first.one("code.loc").text(), "src/<lib>.rs:16:5");
    assert_eq!(first.one("pre.message").text(), "line one\nline <two>");
    let setup = page.one("#t2-failure0");
    assert_eq!(setup.one("strong").text(), "Setup failed");
    assert_eq!(setup.one("pre.message").text(), "node <g> exited");
}

#[test]
fn results_show_each_case_with_status_duration_and_attempts() {
    let page = parsed();
    let row = |id: &str| -> Vec<String> { page.one(id).children().iter().map(|td| td.text()).collect() };
    let hostile = row("#t0-p0-c0");
    assert_eq!(hostile[1..], ["FAIL", "0.012s", "1"]);
    let skipped = row("#t0-p0-c1");
    assert_eq!(skipped[0], "alpha/pkg-a/later — skipped by the host: pkg-a <failed>");
    assert_eq!(skipped[1..], ["SKIP", "—", "—"]);
    let flaky = row("#t1-p0-c0");
    assert!(flaky[0].starts_with("beta/pkg-b/wobbly"), "{flaky:?}");
    assert_eq!(flaky[1..], ["FLAKY", "0.012s", "2 (flaky)"]);
    let earlier = page.one("tr.detail.flaky details.output");
    assert_eq!(earlier.one("summary").text(), "earlier attempts (1)");
    assert_eq!(earlier.one("pre.message").text(), "first try");
    assert_eq!(row("#t1-s0")[..2], ["beta/script:check.sh".to_string(), "FAIL".to_string()]);
    let packages: Vec<String> = page.select("#results tr.pkg td").iter().map(|td| td.text()).collect();
    assert_eq!(packages[0], "pkg-a FAIL0 passed · 1 failed · 1 skipped · 0.200s");
}

#[test]
fn the_timeline_has_one_group_per_test_and_one_lane_per_node_and_package() {
    let page = parsed();
    let svg = page.one("div.timeline svg");
    let groups = svg.select("g.test");
    assert_eq!(groups.len(), 3, "alpha, beta and gamma");
    let lanes = |g: &Element, kind: &str| -> Vec<String> {
        g.select(&format!("g.lane.{kind}")).iter().map(|lane| lane.one("text title").text()).collect()
    };
    assert_eq!((lanes(&groups[0], "node"), lanes(&groups[0], "package")), (vec![HOSTILE.to_string()], vec!["pkg-a".to_string()]));
    assert_eq!((lanes(&groups[1], "node"), lanes(&groups[1], "package")), (vec!["b.dev".to_string()], vec![]));
    assert!(lanes(&groups[2], "node").is_empty() && groups[2].text().contains("not started"), "gamma never started");
    // A node lane: booting then running, both bars with the node's tooltip.
    let bars = groups[0].one("g.lane.node").select("rect title");
    assert_eq!(bars.len(), 2, "booting and running");
    assert!(bars[0].text().starts_with(&format!("node {HOSTILE} · 127.0.0.1:1 · pid 7\nstarted 0.200s, ready 0.300s")), "{}", bars[0].text());
    // alpha and beta overlap: both start before either ends.
    let test_bars: Vec<String> = groups.iter().filter_map(|g| g.select("rect title").first().map(Element::text)).collect();
    assert!(test_bars.contains(&"test alpha".to_string()) && test_bars.contains(&"test beta".to_string()), "{test_bars:?}");
    // The network lane: one mark per change, its words in the tooltip; only alpha had any.
    let marks: Vec<String> = groups[0].one("g.lane.network").select("rect title").iter().map(Element::text).collect();
    assert_eq!(marks, [format!("0.450s · isolate {HOSTILE} · {HOSTILE} cut off"), format!("0.850s · heal {HOSTILE} · the test ended")]);
    assert!(groups[1].select("g.lane.network").is_empty(), "beta changed no network");
    let ticks: Vec<String> = svg.select("g.axis text").iter().map(Element::text).collect();
    assert_eq!(ticks.first().map(String::as_str), Some("0.0s"), "{ticks:?}");
}
