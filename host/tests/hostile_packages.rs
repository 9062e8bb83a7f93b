//! Packages that try to turn a failure into a pass, flood the host with output or name
//! host files as their failure location: every such case ends as a failure with the
//! right reason, the host's memory stays bounded, and no named path is resolved on the
//! host's disk outside the package's sources.

mod common;

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{declared_cases, host, suite};
use serde_json::Value;

/// How long the whole run may take before the test calls it a hang.
const RUN_BOUND: Duration = Duration::from_secs(240);
/// The host's peak resident memory must stay under this.
const PEAK_RSS_LIMIT_KIB: u64 = 100 << 10;

/// The process's peak resident set size (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Collect a child's pipe on a thread, so the child never blocks on a full pipe.
fn collect(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        pipe.read_to_end(&mut text).unwrap();
        String::from_utf8_lossy(&text).into_owned()
    })
}

/// Wait for `child`, sampling its peak RSS while it runs; kill it past `RUN_BOUND`.
fn wait_sampling_rss(child: &mut Child) -> (std::process::ExitStatus, u64) {
    let started = Instant::now();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        if started.elapsed() > RUN_BOUND {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the run did not end within {RUN_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn hostile_verdicts_fail_and_the_host_stays_bounded() {
    let dir = suite(
        r#"
[[tests]]
name = "verdicts"
test_package_paths = ["{repo}/test-packages/hostile-verdicts"]
timeout_secs = 200
"#,
    );
    // Build and compile the package first (`list` loads it), so the measured run's peak
    // is about output, not about compiling the component.
    let listed = host().current_dir(dir.path()).arg("list").output().expect("cannot run host");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let mut child = host()
        .current_dir(dir.path())
        .args(["run", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run host");
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let (status, peak_kib) = wait_sampling_rss(&mut child);
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let both = format!("--- stderr\n{stderr}");
    assert_eq!(status.code(), Some(1), "{both}");
    eprintln!("host peak RSS during the run: {peak_kib} KiB");
    assert!(peak_kib > 0, "no RSS sample");
    assert!(peak_kib < PEAK_RSS_LIMIT_KIB, "host peak RSS {peak_kib} KiB, over {PEAK_RSS_LIMIT_KIB} KiB\n{both}");

    let events: Vec<Value> =
        stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect();
    let case = |name: &str| -> &Value {
        let event = events
            .iter()
            .find(|e| e["type"] == "case_finished" && e["case"] == name)
            .unwrap_or_else(|| panic!("no case_finished for {name}\n{both}"));
        assert_eq!(event["outcome"]["status"], "failed", "{name}: {event}");
        &event["outcome"]["failure"]
    };
    let message = |name: &str| case(name)["message"].as_str().unwrap().to_string();

    // Output floods: past the 1024 KiB cap, whatever the case returns.
    for name in [
        "logs_a_million_lines_then_passes",
        "logs_one_huge_line_then_passes",
        "writes_a_million_lines_then_passes",
        "prints_a_million_lines",
        "writes_past_the_cap_then_traps",
    ] {
        let text = message(name);
        assert!(text.starts_with("output limit exceeded: wrote "), "{name}: {text}");
        assert!(text.contains(", limit 1048576 bytes (sandbox.output_kib = 1024)"), "{name}: {text}");
    }
    let logged = message("logs_a_million_lines_then_passes");
    let written: u64 = logged["output limit exceeded: wrote ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!(written > 1_000_000 * 1024, "counted {written} bytes: {logged}");
    assert!(logged.contains("the case returned Ok after writing past the output limit"), "{logged}");
    assert!(message("prints_a_million_lines").contains("panicked: failed printing to stderr"), "{}", message("prints_a_million_lines"));
    assert!(message("writes_past_the_cap_then_traps").contains("trap: "), "{}", message("writes_past_the_cap_then_traps"));
    // What a case wrote is kept up to the cap and no further.
    for event in events.iter().filter(|e| e["type"] == "case_finished") {
        let output = event["output"].as_str().unwrap_or_default();
        assert!(output.len() < (1 << 20) + 4096, "{}: {} bytes of output kept", event["case"], output.len());
    }

    // A reported failure is never undone by returning Ok or by a trap.
    let reported = message("reports_a_failure_then_passes");
    assert!(reported.contains("returned Ok after reporting a failure"), "{reported}");
    assert!(reported.contains("reported, then returned Ok"), "{reported}");
    assert!(message("reports_a_failure_then_traps").contains("reported, then trapped"), "{}", message("reports_a_failure_then_traps"));

    // So is a resource limit the case ran into, even when it went on to return Ok.
    let memory = message("hits_the_memory_limit_then_passes");
    assert!(memory.starts_with("out of memory: the package asked to grow its linear memory"), "{memory}");
    assert!(memory.contains("the case returned Ok after hitting this limit"), "{memory}");

    // Paths a package names are shown as given, never resolved on the host's disk.
    assert_eq!(case("fails_at_a_relative_path_out_of_the_package")["file"], "../../../../etc/passwd");
    assert_eq!(case("fails_at_an_absolute_host_path")["file"], "/etc/passwd");

    let finished = events.iter().filter(|e| e["type"] == "case_finished").count();
    assert_eq!(finished, declared_cases("hostile-verdicts").len(), "{both}");
    let last = events.last().unwrap();
    assert_eq!(last["totals"]["passed"].as_u64(), Some(0), "{last}");
    assert_eq!(last["totals"]["failed"].as_u64(), Some(finished as u64), "{last}");
}

/// `host run` on a suite with one test running `package`.
fn run_single(package: &str) -> common::Run {
    let dir = suite(&format!("[[tests]]\nname = \"names\"\ntest_package_paths = [\"{{repo}}/test-packages/{package}\"]\n"));
    common::run_in(dir.path(), &["run"])
}

#[test]
fn case_names_are_bounded_in_length_and_count() {
    let run = run_single("hostile-long-case-name");
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(
        run.stderr.contains("package hostile-long-case-name: ")
            && run.stderr.contains("list-cases named a case of 5000 bytes (case 2, starting \"nnnn")
            && run.stderr.contains("over the limit of 4096 bytes"),
        "{}",
        run.both()
    );

    let run = run_single("hostile-many-cases");
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(
        run.stderr.contains("package hostile-many-cases: ")
            && run.stderr.contains("list-cases named 100001 cases, over the limit of 100000"),
        "{}",
        run.both()
    );
}
