//! A package whose names, messages, file names and output are built to forge or break the
//! reports (`test-packages/forger`): the terminal shows them escaped on their own lines,
//! the summary cannot be forged, JUnit parses, the HTML carries no markup of theirs, and
//! every JSON line is valid.

mod common;

use common::html_dom::Page;
use common::{package, run_in, suite};

fn forger_suite() -> tempfile::TempDir {
    suite(&format!("[[tests]]\nname = \"forged\"\ntest_package_paths = [\"{}\"]\n", package("forger")))
}

/// Characters that must never reach a terminal raw from a package.
fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn forged_names_and_messages_cannot_forge_the_terminal_summary_or_break_junit_and_html() {
    let dir = forger_suite();
    let junit = dir.path().join("junit.xml");
    let report = dir.path().join("report");
    let run = run_in(
        dir.path(),
        &["run", "--color", "never", "--junit", junit.to_str().unwrap(), "--report", report.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(1), "{}", run.both());
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let raw: Vec<char> = text.chars().filter(|&c| is_dangerous(c)).collect();
        assert!(raw.is_empty(), "{stream} carries raw control characters {raw:?}:\n{}", run.both());
    }
    let summaries: Vec<&str> = run
        .stdout
        .lines()
        .map(str::trim)
        .filter(|line| line.split(' ').nth(1) == Some("passed,") && line.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(summaries, vec!["2 passed, 3 failed, 0 skipped"], "one summary, the host's:\n{}", run.both());
    // The forged text is still there for a person to read, escaped on the line it belongs to.
    assert!(run.stdout.contains("passes\\n999 passed, 0 failed, 0 skipped"), "{}", run.both());

    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("the JUnit report parses");
    assert_eq!((parsed.tests, parsed.failures), (5, 3), "{xml}");
    assert!(!xml.contains('\u{fffe}') && !xml.contains('\u{0}') && !xml.contains('\u{1b}'), "{xml}");

    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(!html.chars().any(|c| c == '\u{1b}' || c == '\u{0}'), "controls reached the page");
    // Read as a browser reads it: no element of the package's, its markup shown as text.
    let page = Page::parse(&html);
    assert!(page.select("script").is_empty(), "the package's <script> became an element:\n{html}");
    assert!(page.select("system-out").is_empty() && page.select("testcase").is_empty(), "{html}");
    let messages: Vec<String> = page.select("#results .failure pre.message").iter().map(|pre| pre.text()).collect();
    let forged = messages.iter().find(|m| m.starts_with("forged\n999 passed, 0 failed, 0 skipped\n")).expect("the forged message, as text");
    assert!(forged.contains("]]></system-out><script>alert(1)</script>"), "the markup is text in the message: {forged:?}");
    // Every case is one row whose id is its name, escaped onto one line (no control left).
    let ids: Vec<String> = page.select("#results tr[id] code").iter().map(|code| code.text()).collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(ids.contains(&"forged/forger/passes\\n999 passed, 0 failed, 0 skipped".to_string()), "{ids:?}");
    assert!(ids.iter().all(|id| !id.chars().any(|c| c.is_control())), "{ids:?}");
    assert_eq!(page.select("#summary .failures li").len(), 3, "the three failures listed");
    let banner = page.one("#summary .banner");
    assert!(banner.one(".sub").text().starts_with("2 passed · 3 failed · 0 skipped"), "{}", banner.text());
}

#[test]
fn every_json_line_is_valid_json_whatever_the_package_wrote() {
    let dir = forger_suite();
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let mut cases = 0;
    for line in run.stdout.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if value["type"] == "case_finished" {
            cases += 1;
        }
        if value["type"] == "run_finished" {
            assert_eq!(value["totals"]["failed"], 3, "{line}");
            assert_eq!(value["totals"]["passed"], 2, "{line}");
        }
    }
    assert_eq!(cases, 5, "{}", run.stdout);
}

#[test]
fn host_list_prints_forged_case_names_escaped_onto_their_line() {
    let dir = forger_suite();
    let run = run_in(dir.path(), &["list"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let raw: Vec<char> = run.stdout.chars().filter(|&c| is_dangerous(c)).collect();
    assert!(raw.is_empty(), "host list printed raw control characters {raw:?}:\n{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // `forged`, `forged/forger`, then its five cases, one line each.
    assert_eq!(lines.len(), 7, "{}", run.stdout);
    assert!(lines.contains(&"forged/forger/passes\\n999 passed, 0 failed, 0 skipped"), "{}", run.stdout);
}

#[test]
fn host_list_into_a_reader_that_stops_early_exits_quietly() {
    use std::io::{BufRead, BufReader};
    let dir = suite(&format!("[[tests]]\nname = \"big\"\ntest_package_paths = [\"{}\"]\n", package("bench-100k")));
    // Built first, so that the listing below is all that writes to the pipe.
    assert_eq!(run_in(dir.path(), &["list", "--filter", "big/bench-100k/case_000000"]).code, Some(0));
    let mut child = common::host()
        .current_dir(dir.path())
        .arg("list")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "big\n");
    // The read end is closed here, with most of 100,000 lines still to write (`| head -1`).
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
