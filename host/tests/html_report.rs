//! `--report DIR` end to end: the real binary runs a suite with a failing and a skipped
//! package on a real kvnode, writes `DIR/index.html`, and headless Chromium renders it.
//!
//! Chromium (`/usr/bin/chromium`, Debian package `chromium`) is required: without it the
//! test fails and says how to install it. Set `HTML_REPORT_SCREENSHOT=FILE` to keep the
//! rendered screenshot.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{failing_suite, marked_line, repo, run_in, totals};

const FAILING_SRC: &str = "test-packages/failing/src/lib.rs";
const CHROMIUM: &str = "/usr/bin/chromium";

/// One node, the failing package then kv-cases (skipped after the failure).
#[test]
fn the_html_report_shows_the_failure_and_the_timeline_and_renders_in_chromium() {
    let dir = failing_suite(60);
    let report = tempfile::tempdir().unwrap();
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap(), "--report", report.path().to_str().unwrap(), "--log-lines", "2"]);
    assert_eq!(run.code, Some(1), "{}", run.both());

    let index = report.path().join("index.html");
    let html = std::fs::read_to_string(&index).unwrap_or_else(|e| panic!("no {}: {e}\n{}", index.display(), run.both()));
    let line = marked_line(FAILING_SRC, "fail");
    let (passed, failed, skipped) = totals(&run.stdout);
    for expected in [
        "<code>broken/failing/fails_with_message</code>".to_string(),
        "the answer is 42 but 1 nodes were given".to_string(),
        format!("<code class=\"loc\">{FAILING_SRC}:{line}:5</code>"),
        "<svg".to_string(),
        "node </tspan>first.dev</text>".to_string(),
        "pkg </tspan>failing</text>".to_string(),
        format!("{passed} passed · {failed} failed · {skipped} skipped · 0 flaky"),
        "<span>FAILED</span>".to_string(),
    ] {
        assert!(html.contains(&expected), "index.html lacks {expected:?}:\n{html}");
    }
    // The sandbox's refusal is in a case's captured output, escaped and collapsible.
    assert!(html.contains("<details class=\"output\"><summary>captured output"), "{html}");
    assert!(html.contains("[SANDBOX] refused TcpConnect"), "{html}");
    // Two lines of the node's output in place (--log-lines 2), the whole log linked.
    let at = html.find("first.dev — last ").unwrap_or_else(|| panic!("node log tail missing:\n{html}"));
    let shown: usize = html[at + "first.dev — last ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!((1..=2).contains(&shown), "--log-lines 2 shows {shown} lines:\n{html}");
    assert!(html[at..].contains("— <a href=\"node-logs/node-1.log\">whole log</a>"), "no link to the whole log:\n{html}");
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
