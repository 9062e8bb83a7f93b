//! Hostile packages end as failures with the right reason within their timetrap, and the
//! run goes on; a well-behaved package sees exactly the capabilities tests.toml grants.

mod common;

use common::{declared_cases, marked_line, repo, run_in, suite, totals};

const HOSTILE_SRC: &str = "test-packages/hostile/src/lib.rs";

/// The `FAIL [  1.234s] id` line of a case, its seconds and the short reason under it.
fn failure_of<'a>(stdout: &'a str, case: &str) -> (f64, &'a str) {
    let id = format!("hostile/hostile/{case}");
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        if line.contains("FAIL [") && line.trim_end().ends_with(&id) {
            let secs = line.split('[').nth(1).unwrap().split('s').next().unwrap().trim().parse().unwrap();
            return (secs, lines.next().unwrap().trim());
        }
    }
    panic!("{id} did not fail:\n{stdout}");
}

#[test]
fn hostile_packages_fail_with_the_right_reason_and_the_run_goes_on() {
    let dir = suite(
        r#"
runtime = { RepoPath = "{repo}/kvnode" }

[[tests]]
name = "hostile"
test_package_paths = ["{repo}/test-packages/hostile"]
timeout_secs = 120
sandbox = { case_timeout_secs = 2 }

[[tests.nodes]]
fake_node_name = "first.dev"

[[tests]]
name = "sandboxed"
test_package_paths = ["{repo}/test-packages/sandboxed"]

[tests.sandbox]
data_dir = "{repo}/test-packages/sandboxed/data"
env = { GREETING = "hello", EXPECTED_SCALE = "1.5" }
"#,
    );
    let report = dir.path().join("report");
    let run = run_in(&repo(), &["run", dir.path().to_str().unwrap(), "--timeout-scale", "1.5", "!*million*", "--report", report.to_str().unwrap(), "--junit", dir.path().join("junit.xml").to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let timetrap = 2.0 * 1.5;
    let at = |mark: &str| format!("{HOSTILE_SRC}:{}:", marked_line(HOSTILE_SRC, mark));
    let expectations: [(&str, Vec<String>); 15] = [
        ("reads_etc_passwd", vec![at("passwd"), "No such file or directory".into()]),
        ("reads_the_home_directory", vec![at("home"), "No such file or directory".into()]),
        ("connects_to_a_non_node_address", vec![at("non_node"), "Permission denied".into()]),
        ("connects_to_a_node_port_outside_the_allow_list", vec![at("other_port"), "Permission denied".into()]),
        ("allocates_until_it_fails", vec!["out of memory: the package asked to grow its linear memory".into(), "over the limit of 512.0 MiB (sandbox.memory_mib)".into()]),
        ("spins_forever", vec![format!("case spins_forever timed out after {timetrap:.1}s while running guest code (no host call)")]),
        ("sleeps_forever", vec![format!("case sleeps_forever timed out after {timetrap:.1}s while blocked in a WASI call (a sleep or I/O), not in guest code")]),
        ("recurses_forever", vec!["trap: wasm trap: call stack exhausted".into()]),
        ("prints_forever", vec![at("print"), "output limit exceeded: wrote ".into()]),
        ("hits_unreachable", vec![at("unreachable"), "trap: wasm trap: wasm `unreachable` instruction executed".into()]),
        ("divides_by_zero", vec![at("divide"), "panicked: attempt to divide by zero".into()]),
        ("blocks_in_a_host_call", vec![format!("case blocks_in_a_host_call timed out after {timetrap:.1}s while waiting for event `never-emitted` on node first.dev")]),
        ("writes_past_the_output_cap_ignoring_errors_then_passes", vec!["output limit exceeded: wrote ".into()]),
        ("reports_a_failure_then_returns_ok", vec!["the case returned Ok after reporting a failure through `outcome.report-failure`".into()]),
        // Shown exactly as given: never resolved against the host's disk.
        ("fails_at_a_path_outside_its_sources", vec!["../../../../../../etc/passwd:1:1: a failure that names a host file".into()]),
    ];
    // Every hostile case is checked: the million log lines on their own, below.
    assert_eq!(expectations.len() + 1, declared_cases("hostile").len(), "every hostile case is checked");
    for (case, expected) in &expectations {
        let (secs, reason) = failure_of(&run.stdout, case);
        for text in expected {
            assert!(reason.contains(text.as_str()), "{case}: expected {text:?} in {reason:?}\n{}", run.both());
        }
        // Cut at its timetrap, not at the test's budget (120 s): the slack is for teardown
        // on a loaded machine (a 512 MiB memory to give back, a cut to unwind).
        assert!(secs <= timetrap + 5.0, "{case} took {secs}s, over its timetrap of {timetrap}s + 5s");
    }
    assert!(run.stdout.contains("[SANDBOX] refused TcpConnect 127.0.0.1:1:"), "{}", run.both());
    // The well-behaved package after them runs and passes.
    let sandboxed = declared_cases("sandboxed");
    for case in &sandboxed {
        assert!(run.stdout.contains(&"PASS [".to_string()) && run.stdout.contains(&format!("sandboxed/sandboxed/{case}")), "{case}\n{}", run.both());
    }
    assert_eq!(totals(&run.stdout), (sandboxed.len(), expectations.len(), 0), "{}", run.both());
    // Long outputs live in files of their own; the page keeps a bounded tail and names them.
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    let whole: Vec<u64> = std::fs::read_dir(report.join("outputs")).unwrap().flatten().map(|e| e.metadata().unwrap().len()).collect();
    assert!(!whole.is_empty() && whole.iter().all(|&len| len > 64 << 10), "{whole:?}");
    assert!(html.contains("the whole output is in outputs/case-1.txt"), "the page names the file");
    assert!(html.len() < 2 << 20, "the page holds tails, not whole outputs: {} bytes", html.len());
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(xml.contains("the whole output is in junit-outputs/case-1.txt"), "JUnit names the file too");
    assert!(dir.path().join("junit-outputs/case-1.txt").metadata().unwrap().len() > 64 << 10);
    // A million lines of output are capped in the report, not dumped.
    assert!(run.stdout.contains("output (last 40 of"), "{}", run.both());
    assert!(run.stdout.len() < 200_000, "the report is {} bytes", run.stdout.len());
}

#[test]
fn sandbox_keys_are_validated() {
    let dir = suite("[sandbox]\nmemory_mib = 0\n[[tests]]\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:2:14: sandbox.memory_mib: must be greater than 0"), "{}", run.both());

    let dir = suite("[[tests]]\n[tests.sandbox]\ndata_dir = \"missing\"\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:3:12: sandbox.data_dir: no such file or directory"), "{}", run.both());

    let dir = suite("[sandbox]\nmemory = 5\n[[tests]]\n");
    let run = run_in(dir.path(), &["check"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("tests.toml:2:1: unknown field `memory`"), "{}", run.both());

    let run = run_in(&repo(), &["run", "--timeout-scale", "0"]);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(run.stderr.contains("is not a number greater than 0"), "{}", run.both());
}

#[test]
fn a_million_log_lines_fail_the_case_without_the_host_holding_them() {
    let dir = common::node_suite("hostile", "hostile", &["first.dev"]);
    // Built first, so that only the run itself is measured.
    let listed = run_in(&repo(), &["list", dir.path().to_str().unwrap()]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let (run, peak_kib) = common::run_measuring_peak(&repo(), &["run", dir.path().to_str().unwrap(), "hostile/hostile/logs_a_million_lines_then_passes"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let (_, reason) = failure_of(&run.stdout, "logs_a_million_lines_then_passes");
    assert!(reason.contains("output limit exceeded"), "{reason}\n{}", run.both());
    assert_eq!(totals(&run.stdout), (0, 1, 0), "{}", run.both());
    assert!(peak_kib > 0, "the host's memory was read");
    assert!(peak_kib < 100 * 1024, "the host peaked at {} MiB for a gigabyte of log lines", peak_kib / 1024);
}

/// wasi:http reaches the test's nodes (a real HTTP server, python3's) and nothing else;
/// a refused request says why in the case's output.
#[test]
fn wasi_http_requests_reach_the_tests_nodes_and_nothing_else() {
    let dir = suite(
        r#"
runtime = { Command = "sh" }

[[tests]]
name = "http"
test_package_paths = ["{repo}/test-packages/http-client"]

[[tests.nodes]]
name = "web"
args = ["-c", "echo 'hello over wasi:http' > {home}/greeting.txt; exec python3 -m http.server {port} --bind {host} --directory {home}"]
ready = { port = true }
"#,
    );
    let run = run_in(dir.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let cases: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["type"] == "case_finished")
        .collect();
    assert_eq!(cases.len(), 2, "{}", run.both());
    assert!(cases.iter().all(|case| case["outcome"]["status"] == "passed"), "{}", run.both());
    let refused = cases.iter().find(|case| case["case"] == "a_request_to_anything_else_is_refused").unwrap();
    let expected = "[SANDBOX] refused HTTP GET http://127.0.0.1:9/: 127.0.0.1:9 is not an address of the test's nodes";
    assert!(refused["output"].as_str().unwrap().contains(expected), "{}", run.both());
}
