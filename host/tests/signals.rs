//! Ctrl-C and SIGTERM in every phase: each case is counted once (finished, failed as
//! interrupted, or not run), the reports are complete after one and after two signals,
//! the exit code names the signal (130 SIGINT, 143 SIGTERM), and nothing is left running.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use common::{host, package, repo, suite};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Three tests of `sleepy` (one half-second case each), each on its own kvnode node.
fn three_tests() -> tempfile::TempDir {
    let mut text = format!("runtime = {{ RepoPath = \"{}/kvnode\" }}\n", repo().display());
    for name in ["one", "two", "three"] {
        text.push_str(&format!(
            "\n[[tests]]\nname = \"{name}\"\ntest_package_paths = [\"{}\"]\n\n[[tests.nodes]]\nfake_node_name = \"{name}.dev\"\n",
            package("sleepy")
        ));
    }
    suite(&text)
}

/// `host run --format json --junit --report` on `dir`, its JSON lines arriving on a channel.
fn start(dir: &std::path::Path) -> (Child, Receiver<String>) {
    let mut child = host()
        .current_dir(dir)
        .args(["run", "--format", "json", "--junit", "junit.xml", "--report", "report"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// Read JSON lines until one of type `kind` (kept in `seen`), for at most two minutes.
fn wait_for(lines: &Receiver<String>, kind: &str, seen: &mut Vec<serde_json::Value>) {
    loop {
        let line = lines.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no {kind} event: {seen:?}"));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let found = value["type"] == kind;
        seen.push(value);
        if found {
            return;
        }
    }
}

fn signal(child: &Child, signal: Signal) {
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// Wait for the run to end; the rest of its JSON lines are added to `seen`.
fn finish(mut child: Child, lines: Receiver<String>, seen: &mut Vec<serde_json::Value>) -> Option<i32> {
    let status = child.wait().unwrap();
    for line in lines.iter() {
        seen.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")));
    }
    status.code()
}

/// The run's reports agree: one run_finished whose totals add up to the three cases, each
/// case reported once, a JUnit file that parses with the same counts, an HTML page.
fn assert_complete_reports(dir: &std::path::Path, seen: &[serde_json::Value]) -> serde_json::Value {
    let finished: Vec<&serde_json::Value> = seen.iter().filter(|v| v["type"] == "run_finished").collect();
    assert_eq!(finished.len(), 1, "one run_finished: {seen:#?}");
    let totals = finished[0]["totals"].clone();
    assert_eq!(finished[0]["interrupted"], true, "{totals}");
    let count = |key: &str| totals[key].as_u64().unwrap();
    assert_eq!(count("passed") + count("failed") + count("skipped") + count("not_run"), 3, "every case once: {totals}");
    let mut ids: Vec<String> = seen
        .iter()
        .filter(|v| v["type"] == "case_finished")
        .map(|v| format!("{}/{}/{}", v["test"], v["package"], v["case"]))
        .collect();
    assert_eq!(ids.len(), 3, "three case_finished events: {ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "no case reported twice: {ids:?}");
    assert!(!seen.iter().any(|v| v["type"] == "setup_failed"), "no phantom setup failure: {seen:#?}");
    let junit = std::fs::File::open(dir.join("junit.xml")).expect("the JUnit report is written");
    let parsed = junit_parser::from_reader(BufReader::new(junit)).expect("and parses");
    assert_eq!(parsed.tests, 3, "JUnit has every case");
    assert_eq!(parsed.failures, count("failed"), "JUnit agrees on failures");
    let html = std::fs::read_to_string(dir.join("report/index.html")).expect("the HTML report is written");
    assert!(html.contains("not run"), "the HTML report shows what did not run");
    totals
}

/// Processes whose command line mentions `dir` (the suite's nodes and scripts).
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(&needle) && !cmdline.contains("cargo"))
        .collect()
}

#[test]
fn one_sigint_mid_run_counts_each_case_once_writes_every_report_and_exits_130() {
    let dir = three_tests();
    let (child, lines) = start(dir.path());
    let mut seen = Vec::new();
    wait_for(&lines, "case_finished", &mut seen);
    signal(&child, Signal::SIGINT);
    let code = finish(child, lines, &mut seen);
    assert_eq!(code, Some(130), "{seen:#?}");
    let totals = assert_complete_reports(dir.path(), &seen);
    assert!(totals["not_run"].as_u64().unwrap() >= 1, "{totals}");
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn two_sigints_skip_the_grace_period_not_the_reports() {
    let dir = three_tests();
    let (child, lines) = start(dir.path());
    let mut seen = Vec::new();
    wait_for(&lines, "case_finished", &mut seen);
    signal(&child, Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(20));
    signal(&child, Signal::SIGINT);
    let code = finish(child, lines, &mut seen);
    assert_eq!(code, Some(130), "{seen:#?}");
    assert_complete_reports(dir.path(), &seen);
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn sigterm_mid_run_exits_143_with_complete_reports() {
    let dir = three_tests();
    let (child, lines) = start(dir.path());
    let mut seen = Vec::new();
    wait_for(&lines, "node_ready", &mut seen);
    signal(&child, Signal::SIGTERM);
    let code = finish(child, lines, &mut seen);
    assert_eq!(code, Some(143), "{seen:#?}");
    assert_complete_reports(dir.path(), &seen);
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn a_signal_during_the_build_exits_with_its_code_and_kills_the_build() {
    for (sig, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let dir = suite("[[tests]]\nname = \"slow-build\"\ntest_package_paths = [\"pkg\"]\n");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        // A build that never ends, and a grandchild of it that would outlive a plain kill;
        // their sleeps are told apart from any other by a duration of their own.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let unique = format!("{}.{nanos:09}", 300 + std::process::id() % 100);
        std::fs::write(
            pkg.join("host-package.toml"),
            format!("build = [\"sh\", \"-c\", \"sleep {unique} & sleep {unique}\"]\ninputs = [\"*.toml\"]\n"),
        )
        .unwrap();
        let sleeps = || -> Vec<String> {
            std::fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
                .filter(|cmdline| cmdline.starts_with("sleep ") && cmdline.contains(&unique))
                .collect()
        };
        let mut child = host()
            .current_dir(dir.path())
            .args(["run", "--no-cache", "--format", "json"])
            .env("HOST_CACHE_DIR", dir.path().join("cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let building = lines.find(|line| line.as_ref().is_ok_and(|l| l.contains("package_building")));
        assert!(building.is_some(), "the build started");
        // The build command is running once both of its sleeps exist.
        for _ in 0..400 {
            if sleeps().len() == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        assert_eq!(sleeps().len(), 2, "the build's two sleeps started");
        signal(&child, sig);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{sig}");
        for _ in 0..100 {
            if sleeps().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(sleeps().is_empty(), "{sig}: the build's processes are gone: {:?}", sleeps());
    }
}
