//! Event handlers and hooks (issue 15), driven through the real binary: the `handler-probe`
//! component (test-packages/handler-probe) against the `failing` suite on a kvnode node.

mod common;

use std::path::Path;

use common::{failing_suite, package, run_in, Run};
use serde_json::Value;

/// The failing suite with `handlers` (TOML of `[[event_handlers]]` entries) appended.
fn suite_with(handlers: &str) -> tempfile::TempDir {
    let dir = failing_suite(60);
    let file = dir.path().join("tests.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n{}", handlers.replace("{probe}", &package("handler-probe")))).unwrap();
    std::fs::create_dir(dir.path().join("granted")).unwrap();
    dir
}

fn json_lines(run: &Run) -> Vec<Value> {
    run.stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

fn types(lines: &[Value]) -> Vec<String> {
    lines.iter().map(|line| line["type"].as_str().unwrap().to_string()).collect()
}

fn last_totals(lines: &[Value]) -> Value {
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "run_finished");
    last["totals"].clone()
}

fn case_line<'a>(lines: &'a [Value], case: &str) -> &'a Value {
    lines.iter().find(|line| line["type"] == "case_finished" && line["case"] == case).unwrap_or_else(|| panic!("no case_finished for {case}"))
}

/// A JUnit report without its times (which differ from run to run).
fn junit_without_times(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let times = regex::Regex::new(r#" (time|timestamp)="[^"]*""#).unwrap();
    times.replace_all(&text, "").into_owned()
}

/// `host run --format json --junit junit.xml EXTRA…` in `dir`, which must fail (exit 1,
/// the failing package's verdict), and its JSON lines.
fn run_json(dir: &Path, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["run", "--format", "json", "--junit", "junit.xml"];
    args.extend_from_slice(extra);
    let run = run_in(dir, &args);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let lines = json_lines(&run);
    (run, lines)
}

#[test]
fn a_rust_handler_receives_every_event_of_the_run_in_order_with_the_counts() {
    receives_every_event_in_order_with_the_counts("handler-probe");
}

#[test]
fn a_python_handler_receives_every_event_of_the_run_in_order_with_the_counts() {
    receives_every_event_in_order_with_the_counts("python-handler");
}

/// The handler `test-packages/<handler>` writes each event's type to `events.txt` and each
/// case's outcome and duration to `durations.csv` in its granted directory.
fn receives_every_event_in_order_with_the_counts(handler: &str) {
    let dir = suite_with(&format!("[[event_handlers]]\npath = \"{}\"\ndir = \"granted\"\n", package(handler)));
    let (run, lines) = run_json(dir.path(), &[]);
    let seen: Vec<String> = std::fs::read_to_string(dir.path().join("granted/events.txt")).unwrap().lines().map(str::to_string).collect();
    // Every event from the run's start, in the order the JSON reporter wrote them, then
    // `terminate`; after each finished case, the counts so far.
    let printed = types(&lines);
    let from = printed.iter().position(|t| t == "run_started").unwrap();
    let without_stats: Vec<&String> = seen.iter().filter(|t| !t.starts_with("stats ")).collect();
    let expected: Vec<&String> = printed[from..].iter().collect();
    assert_eq!(without_stats[..without_stats.len() - 1], expected[..], "handler saw:\n{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("terminate"));
    let cases = printed.iter().filter(|t| *t == "case_finished").count();
    // After each finished case, the counts so far: one more case each time, the last
    // ones those of the run.
    let stats: Vec<(usize, Vec<u64>)> = seen
        .iter()
        .enumerate()
        .filter_map(|(index, line)| Some((index, line.strip_prefix("stats ")?.split(' ').map(|n| n.parse().unwrap()).collect())))
        .collect();
    assert_eq!(stats.len(), cases);
    for (number, (index, counts)) in stats.iter().enumerate() {
        assert_eq!(seen[index - 1], "case_finished", "stats right after a finished case");
        assert_eq!(counts.iter().sum::<u64>(), number as u64 + 1, "{counts:?}");
    }
    let totals = last_totals(&lines);
    let last = &stats.last().unwrap().1;
    assert_eq!(last, &vec![totals["passed"].as_u64().unwrap(), totals["failed"].as_u64().unwrap(), totals["skipped"].as_u64().unwrap()]);
    // Typed case results: each case with its outcome, in the CSV the handler wrote.
    if handler == "python-handler" {
        let summary = std::fs::read_to_string(dir.path().join("granted/summary.txt")).unwrap();
        assert!(summary.starts_with(":x: *1 passed, 5 failed, 4 skipped* in "), "{summary}");
        assert!(summary.contains("> `broken/failing/fails_with_message`"), "{summary}");
    }
    let csv = std::fs::read_to_string(dir.path().join("granted/durations.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), cases, "{csv}");
    for line in lines.iter().filter(|l| l["type"] == "case_finished") {
        let status = line["outcome"]["status"].as_str().unwrap().replace("not_run", "not-run");
        let prefix = format!("{},{status},", line["case"].as_str().unwrap());
        assert!(rows.iter().any(|row| row.starts_with(&prefix)), "no row {prefix} in {csv}");
    }
    assert_eq!((totals["passed"].as_u64(), totals["failed"].as_u64()), (Some(1), Some(5)), "{}", run.both());
}

#[test]
fn a_sync_handler_holds_the_next_case_until_it_returns() {
    let dir = suite_with("[[event_handlers]]\npath = \"{probe}\"\nsync = true\nargs = [\"sleep-ms=400\"]\n");
    let (_, lines) = run_json(dir.path(), &[]);
    let failing: Vec<f64> = lines
        .iter()
        .filter(|l| l["type"] == "case_finished" && l["package"] == "failing")
        .map(|l| l["time"].as_f64().unwrap())
        .collect();
    assert_eq!(failing.len(), 6);
    for pair in failing.windows(2) {
        // The next case could not even start before the handler's 400 ms were over.
        assert!(pair[1] - pair[0] >= 0.39, "cases {:.3}s apart: {failing:?}", pair[1] - pair[0]);
    }
}

#[test]
fn a_handler_that_traps_hangs_or_floods_is_stopped_and_reported_and_changes_nothing_else() {
    let baseline = suite_with("");
    let (_, lines) = run_json(baseline.path(), &[]);
    let expected_totals = last_totals(&lines);
    let expected_junit = junit_without_times(&baseline.path().join("junit.xml"));
    // A handler's every call has its `timeout_secs`: 1 s to see a hang soon, 10 s where the
    // handler must not look hung before it traps or floods, on a loaded machine.
    for (mode, timeout, reason) in [
        ("trap", 10, "trapped: "),
        ("hang", 1, "hung: a call did not return within 1.0s"),
        ("flood", 10, "flooded: wrote more than 64 KiB"),
    ] {
        let dir = suite_with(&format!(
            "[[event_handlers]]\npath = \"{{probe}}\"\nsync = true\ntimeout_secs = {timeout}\nargs = [\"{mode}\"]\n"
        ));
        let (run, lines) = run_json(dir.path(), &[]);
        assert_eq!(last_totals(&lines), expected_totals, "{mode}");
        let warning = lines
            .iter()
            .find(|l| l["type"] == "warning" && l["message"].as_str().unwrap().starts_with("event handler `handler-probe` stopped"))
            .unwrap_or_else(|| panic!("{mode}: no warning\n{}", run.both()));
        assert!(warning["message"].as_str().unwrap().contains(reason), "{mode}: {warning}");
        assert_eq!(junit_without_times(&dir.path().join("junit.xml")), expected_junit, "{mode}");
        if mode == "trap" {
            // The terminal says it too, before the summary, which is the run's own.
            let human = run_in(dir.path(), &["run", "--color", "never"]);
            let said = human.stdout.find("event handler `handler-probe` stopped after").unwrap_or_else(|| panic!("{}", human.both()));
            assert!(said < human.stdout.find("1 passed, 5 failed").unwrap(), "{}", human.both());
        }
    }
}

#[test]
fn a_post_case_hook_rewrites_a_failure_into_a_skip_and_every_report_says_so() {
    let handler = "[[event_handlers]]\npath = \"{probe}\"\nhooks = true\nargs = [\"skip=fails_with_message\"]\n";
    let dir = suite_with(handler);
    let (_, lines) = run_json(dir.path(), &["--report", "html"]);
    let line = case_line(&lines, "fails_with_message");
    assert_eq!(line["outcome"]["status"], "skipped", "{line}");
    let reason = line["outcome"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("rewritten by hook `handler-probe`: fails_with_message is known to fail (quarantined) (was a failure: "), "{reason}");
    assert_eq!(line["rewritten"]["by"], "handler-probe");
    assert!(line["rewritten"]["original"]["message"].as_str().unwrap().contains("the answer is 42"), "{line}");
    let totals = last_totals(&lines);
    assert_eq!((totals["passed"].as_u64(), totals["failed"].as_u64()), (Some(1), Some(4)), "counted once, as a skip");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.contains("<skipped message=\"rewritten by hook `handler-probe`"), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("html/index.html")).unwrap();
    assert!(html.contains("rewritten by hook `handler-probe`"));
    let human = run_in(dir.path(), &["run", "--color", "never"]);
    assert!(human.stdout.contains("rewritten by hook `handler-probe`: fails_with_message is known to fail"), "{}", human.both());
    assert_eq!(common::totals(&human.stdout).1, 4, "{}", human.both());
}

#[test]
fn an_on_failure_hooks_diagnostics_are_attached_to_the_failure() {
    // kvnode is ready by its `ready` event, which it emits right after its "listening on"
    // line: the host reads that line (another pipe) before it calls the node ready, so the
    // first case, failing a millisecond later, has it in the hook's tail.
    let dir = suite_with("[[event_handlers]]\npath = \"{probe}\"\nhooks = true\nargs = [\"diagnose\"]\n");
    let (_, lines) = run_json(dir.path(), &[]);
    let message = case_line(&lines, "fails_with_message")["outcome"]["failure"]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("the answer is 42"), "{message}");
    assert!(message.contains("diagnostics from hook `handler-probe`:\nprobe saw fails_with_message fail (fail) with 1 node(s)\n[first.dev] last "), "{message}");
    assert!(message.contains("\n  kvnode first.dev listening on "), "the node's own lines: {message}");
    let human = run_in(dir.path(), &["run", "--color", "never"]);
    assert!(human.stdout.contains("probe saw fails_with_message fail (fail) with 1 node(s)"), "{}", human.both());
}

#[test]
fn a_handler_cannot_read_outside_its_granted_directory() {
    let dir = suite_with("");
    std::fs::write(dir.path().join("secret.txt"), "the secret").unwrap();
    for path in [dir.path().join("secret.txt").display().to_string(), "/data/../secret.txt".to_string()] {
        let text = std::fs::read_to_string(dir.path().join("tests.toml")).unwrap();
        let handler = format!("[[event_handlers]]\npath = \"{}\"\ndir = \"granted\"\nargs = [\"read={path}\"]\n", package("handler-probe"));
        let file = dir.path().join("with-handler.toml");
        std::fs::write(&file, format!("{text}\n{handler}")).unwrap();
        let run = run_in(dir.path(), &["run", "with-handler.toml", "--format", "json"]);
        assert_eq!(run.code, Some(1), "{}", run.both());
        let read = std::fs::read_to_string(dir.path().join("granted/read.txt")).unwrap();
        assert!(read.starts_with("denied: ") && !read.contains("the secret"), "{path}: {read}");
    }
    // The granted directory itself is readable and writable (the probe wrote there).
    assert!(dir.path().join("granted/durations.csv").is_file());
}

#[test]
fn a_handler_has_no_network_and_no_environment() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let dir = suite_with(&format!("[[event_handlers]]\npath = \"{{probe}}\"\ndir = \"granted\"\nargs = [\"connect={address}\"]\n"));
    let run = common::host().current_dir(dir.path()).env("HOST_SECRET", "x").args(["run", "--format", "json"]).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let connect = std::fs::read_to_string(dir.path().join("granted/connect.txt")).unwrap();
    assert!(connect.starts_with("denied: ") && connect.ends_with("; 0 environment variable(s)"), "{connect}");
    assert_eq!(listener.accept().map_err(|e| e.kind()).err(), Some(std::io::ErrorKind::WouldBlock), "nothing connected");
}

#[test]
fn a_command_handler_reads_the_json_lines_and_is_gone_at_the_end() {
    let dir = suite_with("");
    let out = dir.path().join("seen.jsonl");
    let flag = format!("cmd:tee {}", out.display());
    let (run, lines) = run_json(dir.path(), &["--event-handler", &flag]);
    let printed = types(&lines);
    let seen: Vec<Value> = std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let from = printed.iter().position(|t| t == "run_started").unwrap();
    assert_eq!(types(&seen), printed[from..].to_vec());
    assert!(!run.stderr.contains("tee"), "the command ended well: {}", run.both());
    // Nothing of the command is left running.
    let left = std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline")).is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&out.display().to_string()))
    });
    assert!(!left, "the command outlived the run");
}

#[test]
fn an_async_handler_that_falls_behind_never_holds_the_run_and_its_drops_are_counted() {
    let dir = suite_with("[[event_handlers]]\npath = \"{probe}\"\nqueue = 1\nargs = [\"sleep-ms=300\"]\n");
    let (run, lines) = run_json(dir.path(), &[]);
    let warning = lines
        .iter()
        .filter_map(|l| l["message"].as_str())
        .find(|m| m.starts_with("event handler `handler-probe` fell behind: "))
        .unwrap_or_else(|| panic!("no drop count\n{}", run.both()));
    let dropped: u64 = warning.split(' ').nth(5).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{warning}"));
    assert!(dropped > 0, "{warning}");
    let totals = last_totals(&lines);
    assert_eq!((totals["passed"].as_u64(), totals["failed"].as_u64()), (Some(1), Some(5)));
}

#[test]
fn a_handler_that_cannot_start_stops_the_run_before_anything_boots() {
    let dir = suite_with("");
    // A test package is no handler: it does not export the `event-handler` world.
    let flag = format!("{}=x", package("flaky"));
    let run = run_in(dir.path(), &["run", "--format", "json", "--event-handler", &flag]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("event handler flaky") && run.stderr.contains("does not fit the `event-handler` world"), "{}", run.both());
    let lines = json_lines(&run);
    assert_eq!(lines.last().unwrap()["type"], "preparation_failed");
    assert!(!types(&lines).contains(&"run_started".to_string()));
    let missing = run_in(dir.path(), &["run", "--event-handler", "no/such/handler.wasm"]);
    assert_eq!(missing.code, Some(2));
    assert!(missing.stderr.contains("--event-handler no/such/handler.wasm: no such file or directory"), "{}", missing.both());
}
