//! `--report DIR` end to end: the real binary runs a suite with a failing and a skipped
//! package on a real kvnode, writes `DIR/index.html`, which is parsed (html5ever) and
//! checked for content, and headless Chromium renders it.
//!
//! Chromium (`/usr/bin/chromium`, Debian package `chromium`) is required: without it the
//! test fails and says how to install it. Set `HTML_REPORT_SCREENSHOT=FILE` to keep the
//! rendered screenshot.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::html_dom::Page;
use common::{failing_suite, marked_line, repo, run_in, totals};

const FAILING_SRC: &str = "test-packages/failing/src/lib.rs";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The package runs the timeline shows: `failing`, then `kv-cases` (its cases skipped).
const PACKAGE_LANES: [&str; 2] = ["failing", "kv-cases"];

/// One node, the failing package then kv-cases (skipped after the failure).
#[test]
fn the_html_report_shows_the_failure_and_the_timeline_and_renders_in_chromium() {
    let dir = failing_suite(60);
    let report = tempfile::tempdir().unwrap();
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap(), "--report", report.path().to_str().unwrap(), "--log-lines", "2"]);
    assert_eq!(run.code, Some(1), "{}", run.both());

    let index = report.path().join("index.html");
    let html = std::fs::read_to_string(&index).unwrap_or_else(|e| panic!("no {}: {e}\n{}", index.display(), run.both()));
    let page = Page::parse(&html);
    assert_eq!(page.errors(), Vec::<String>::new(), "the page is malformed:\n{html}");
    let line = marked_line(FAILING_SRC, "fail");
    let (passed, failed, skipped) = totals(&run.stdout);

    // The banner and the cards carry the run's totals, as the terminal summary does.
    let banner = page.one("#summary .banner");
    assert!(banner.has_class("fail") && banner.text().starts_with("FAILED"), "{}", banner.text());
    let sub = format!("{passed} passed · {failed} failed · {skipped} skipped · 0 flaky");
    assert!(banner.one(".sub").text().starts_with(&sub), "{}", banner.text());
    for (label, value) in [("passed", passed), ("failed", failed), ("skipped", skipped), ("flaky", 0), ("tests", 1)] {
        let cards: Vec<String> = page
            .select("#summary .card")
            .iter()
            .filter(|card| card.one(".l").text() == label)
            .map(|card| card.one(".n").text())
            .collect();
        assert_eq!(cards, vec![value.to_string()], "card {label}");
    }

    // The failures list names the case and its message, and links to its row, whose detail
    // row has the location in the package's sources and the whole message.
    let failures = page.select("#summary .failures li");
    assert_eq!(failures.len(), failed, "one entry per failed case");
    let entry = failures.iter().find(|li| li.one("code").text() == "broken/failing/fails_with_message").expect("listed");
    assert_eq!(entry.one(".muted").text(), "the answer is 42 but 1 nodes were given");
    let row = page.one(&entry.one("a").attr("href").unwrap());
    let rows = page.select("#results tr");
    let at = rows.iter().position(|r| r.is(&row)).expect("the link leads to a results row");
    assert_eq!(row.one("code").text(), "broken/failing/fails_with_message");
    assert_eq!(row.children()[1].text(), "FAIL");
    let detail = &rows[at + 1];
    assert!(detail.has_class("detail"), "the failure's detail follows its row");
    assert_eq!(detail.one(".failure code.loc").text(), format!("{FAILING_SRC}:{line}:5"));
    assert_eq!(detail.one(".failure pre.message").text(), "the answer is 42 but 1 nodes were given");
    // The sandbox's refusal is in a case's captured output, collapsed.
    let outputs: Vec<String> = page.select("#results details.output pre").iter().map(|pre| pre.text()).collect();
    assert!(outputs.iter().any(|o| o.contains("[SANDBOX] refused TcpConnect")), "{outputs:?}");

    // The timeline: one group for the test, one lane for its node and one per package run.
    let groups = page.select("#timeline svg g.test");
    assert_eq!(groups.len(), 1, "one test");
    let lanes = |kind: &str| -> Vec<String> {
        groups[0].select(&format!("g.lane.{kind}")).iter().map(|lane| lane.one("text title").text()).collect()
    };
    assert_eq!(lanes("node"), ["first.dev"]);
    assert_eq!(lanes("package"), PACKAGE_LANES);

    // Two lines of the node's output in place (--log-lines 2), the whole log linked.
    let log = page.one("#logs details.log");
    let summary = log.one("summary").text();
    let shown: usize = summary.strip_prefix("first.dev — last ").and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{summary}"));
    assert!((1..=2).contains(&shown), "--log-lines 2 shows {shown} lines: {summary}");
    assert_eq!(log.one("pre").text().lines().count(), shown, "{}", log.text());
    let link = log.one("summary a");
    assert_eq!((link.attr("href").as_deref(), link.text().as_str()), (Some("node-logs/node-1.log"), "whole log"));
    let whole = std::fs::read_to_string(report.path().join("node-logs/node-1.log")).unwrap();
    assert!(whole.contains("first.dev"), "the whole log is copied: {whole}");

    let screenshot = render(&index, report.path());
    if let Some(keep) = std::env::var_os("HTML_REPORT_SCREENSHOT") {
        std::fs::copy(&screenshot, &keep).unwrap();
    }
}

/// Screenshot `index` with headless Chromium into `dir/report.png`, and check it is a
/// real, non-trivial PNG.
fn render(index: &Path, dir: &Path) -> PathBuf {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the HTML report test renders the page with headless Chromium; \
         install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y chromium`"
    );
    let profile = tempfile::tempdir().unwrap();
    let png = dir.join("report.png");
    let mut command = Command::new(CHROMIUM);
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--window-size=1280,2000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", index.display()))
        .stdin(Stdio::null());
    let output = wait_with_deadline(command, dir, Duration::from_secs(120));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("chromium wrote no screenshot ({e}):\n{output}"));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG:\n{output}", png.display());
    assert!(bytes.len() > 20_000, "screenshot is only {} bytes: nothing rendered?\n{output}", bytes.len());
    png
}

/// Run `command` (its output going to files in `dir`, so it never blocks on a full pipe),
/// killing it if it outlives `deadline`; returns its status and what it printed.
fn wait_with_deadline(mut command: Command, dir: &Path, deadline: Duration) -> String {
    let (out, err) = (dir.join("chromium.stdout"), dir.join("chromium.stderr"));
    command.stdout(std::fs::File::create(&out).unwrap()).stderr(std::fs::File::create(&err).unwrap());
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |file: &Path| String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default()).into_owned();
    format!("chromium exited with {status}\n--- stdout\n{}\n--- stderr\n{}", read(&out), read(&err))
}
