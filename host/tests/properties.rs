//! Property tests over arbitrary input: the configuration parser, the placeholder
//! templates, the event-line parser and the report writers never panic, and what they
//! produce stays well formed whatever names and messages a package chooses (the HTML
//! report read back through a real HTML parser).

use std::path::Path;
use std::time::Duration;

use host::config::{Template, parse};
use host::events::{Event, FailureDetail, FailureKind, Outcome, Rewritten, Subscriber, Totals};
use host::nodes::parse_line;
use host::reporters::escape::terminal_line;
use host::reporters::{HtmlReporter, JunitReporter, TerminalReporter};
use proptest::prelude::*;

mod common;

use common::html_dom::Page;

/// Text a hostile package could choose: any characters, with controls, braces, markup and
/// the summary line's words over-represented.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        prop::sample::select(vec![
            "\n", "\r", "\u{1b}[2J", "\u{1b}]0;t\u{7}", "\u{8}", "\u{0}", "\u{fffe}", "\u{ffff}", "\u{9b}", "\u{202e}",
            "<", ">", "&", "\"", "]]>", "{", "}", "{port}", "999 passed, 0 failed", "</testcase>", "<script>",
        ])
        .prop_map(String::from),
        "[a-z ]{0,8}",
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|parts| parts.concat())
}

fn toml_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[[tests]]".to_string()),
        Just("[[tests.nodes]]".to_string()),
        Just("[sandbox]".to_string()),
        hostile_text().prop_map(|v| format!("name = {v:?}")),
        hostile_text().prop_map(|v| format!("home = {v:?}")),
        hostile_text().prop_map(|v| format!("args = [{v:?}]")),
        any::<i64>().prop_map(|n| format!("memory_mib = {n}")),
        any::<f64>().prop_map(|n| format!("timeout_secs = {n:?}")),
        hostile_text(),
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

fn case_event(name: String, message: String, output: String, failed: bool) -> Event {
    let outcome = if failed {
        Outcome::Failed { failure: FailureDetail { kind: FailureKind::Fail, file: name.clone(), line: 1, column: 1, message } }
    } else {
        Outcome::Passed
    };
    Event::CaseFinished {
        test: "t".into(),
        package: "p".into(),
        case: name.clone(),
        outcome,
        duration: Duration::ZERO,
        output,
        attempts: 1,
        earlier_failures: Vec::new(),
        // A hook's rewrite carries the package's original failure: as untrusted as the rest.
        rewritten: failed.then(|| Rewritten {
            by: name.clone(),
            original: FailureDetail { kind: FailureKind::Fail, file: name.clone(), line: 1, column: 1, message: name.clone() },
        }),
    }
}

/// The elements the HTML report's templates write into its body.
const PAGE_ELEMENTS: &[&str] = &[
    "main", "h1", "h2", "h3", "nav", "a", "section", "div", "span", "strong", "ul", "li", "code", "p", "pre", "table", "colgroup",
    "col", "thead", "tbody", "tr", "th", "td", "details", "summary", "svg", "defs", "clipPath", "rect", "g", "text", "tspan",
    "line", "title",
];

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_config_parser_never_panics_and_points_inside_the_file(text in toml_like()) {
        if let Err(errors) = parse(Path::new("/nonexistent/tests.toml"), &text) {
            for error in &errors.0 {
                if let Some((line, column)) = error.position {
                    prop_assert!(line >= 1 && line <= text.lines().count() + 1, "line {line} of {text:?}");
                    prop_assert!(column >= 1);
                }
            }
        }
    }

    #[test]
    fn templates_never_panic_and_round_trip(text in hostile_text()) {
        if let Ok(template) = Template::parse(&text) {
            prop_assert_eq!(Template::parse(&template.to_string()), Ok(template));
        }
    }

    #[test]
    fn the_event_line_parser_never_panics_and_reads_every_well_formed_event(name in "[a-z_]{1,12}", value in hostile_text(), junk in hostile_text()) {
        let _ = parse_line(&junk);
        let line = serde_json::json!({ name.clone(): { "v": value } }).to_string();
        let event = parse_line(&line).expect("a single-key object is an event");
        prop_assert_eq!(event.name, name);
    }

    #[test]
    fn reports_stay_well_formed_whatever_the_names_and_messages(
        name in hostile_text(), message in hostile_text(), output in hostile_text(), failed in any::<bool>()
    ) {
        let event = case_event(name.clone(), message, output, failed);
        let finished = Event::RunFinished { totals: Totals::default(), interrupted: false, duration: Duration::ZERO, rounds: 1 };

        let screen = Shared::default();
        let mut terminal = TerminalReporter::new(screen.clone(), false);
        terminal.handle(&event);
        terminal.handle(&finished);
        let _ = terminal.finish();
        let printed = String::from_utf8(screen.0.lock().unwrap().clone()).unwrap();
        prop_assert!(!printed.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "raw control in {printed:?}");
        let summaries = printed.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(" passed, ")).count();
        prop_assert_eq!(summaries, 1, "{}", printed);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("junit.xml");
        let mut junit = JunitReporter::new(file.clone());
        junit.handle(&event);
        junit.handle(&finished);
        prop_assert!(junit.finish().is_ok());
        let xml = std::fs::read(&file).unwrap();
        prop_assert!(junit_parser::from_reader(std::io::Cursor::new(&xml)).is_ok(), "{}", String::from_utf8_lossy(&xml));

        // HTML: the case is one row whose id is the name as the terminal shows it, as text;
        // the only elements are the page's own (no script, nothing from the name or message).
        let mut reporter = HtmlReporter::new(dir.path().join("report"));
        reporter.handle(&event);
        reporter.handle(&finished);
        prop_assert!(reporter.finish().is_ok());
        let html = std::fs::read_to_string(dir.path().join("report/index.html")).unwrap();
        let page = Page::parse(&html);
        let ids: Vec<String> = page.select("#results tr[id] code").iter().map(|code| code.text()).collect();
        prop_assert_eq!(ids, vec![format!("t/p/{}", terminal_line(&name))], "{}", html);
        let script = page.select("script").len();
        let body: Vec<String> = page.select("body *").iter().filter_map(|e| e.name()).collect();
        prop_assert!(script == 0 && body.iter().all(|n| PAGE_ELEMENTS.contains(&n.as_str())), "{:?}\n{}", body, html);
    }
}
