//! Nodes that misbehave: they look ready and exit, die while the test runs, write bytes
//! that are not text, or are handed a home the host did not make. The verdict must say
//! so, capture must go on, and nothing of the user's may be deleted.

mod common;

use std::path::Path;

use common::{package, run_in, suite, totals};

/// A suite whose single node runs `script` (sh, with `$1` = the event pipe, `$2` = the
/// port) and whose single test runs `sleepy` (one case that sleeps half a second).
fn script_suite(script: &str, node_keys: &str) -> tempfile::TempDir {
    let dir = suite(&format!(
        r#"
runtime = {{ Path = "node.sh", args = ["{{event_pipe}}", "{{port}}"] }}

[[tests]]
name = "faulty"
test_package_paths = ["{}"]
timeout_secs = 30

[[tests.nodes]]
fake_node_name = "crashy"
boot_timeout_secs = 60
{node_keys}
"#,
        package("sleepy")
    ));
    write_script(dir.path(), script);
    dir
}

fn write_script(dir: &Path, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("node.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_node_that_exits_right_after_it_looks_ready_fails_its_test_for_every_readiness_kind() {
    // Someone else listens on the port the node is given: the port looks ready.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = listener.local_addr().unwrap().port();
    for (ready, keys) in [
        ("stdout", r#"ready = { stdout = "^up$" }"#.to_string()),
        ("event", r#"ready = { event = "ready" }"#.to_string()),
        ("port", format!("ready = {{ port = true }}\nport = {taken}")),
        ("command", r#"ready = { command = ["true"] }"#.to_string()),
    ] {
        let dir = script_suite(r#"echo up; echo '{"ready": {}}' > "$1"; echo "going away"; exit 3"#, &keys);
        let run = run_in(dir.path(), &["run"]);
        assert_eq!(run.code, Some(1), "ready by {ready}: a node that exited is never ready\n{}", run.both());
        assert!(run.stdout.contains("exited with code 3"), "ready by {ready}: the exit status is shown\n{}", run.both());
        let (_, failed, _) = totals(&run.stdout);
        assert!(failed >= 1, "ready by {ready}: counted as a failure\n{}", run.both());
    }
    drop(listener);
}

#[test]
fn a_node_that_dies_while_the_test_runs_fails_it_with_its_status_and_last_lines() {
    // The node dies 1 s after it is ready, while the case sleeps 3 s (0.5 s × 6): a second
    // of margin on each side, for a loaded machine.
    let script = r#"echo up; echo "last words before the crash"; sleep 1; exit 7"#;
    let dir = script_suite(script, r#"ready = { stdout = "^up$" }"#);
    let run = run_in(dir.path(), &["run", "--timeout-scale", "6"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(run.stdout.contains("node crashy exited with code 7 while the test ran"), "{}", run.both());
    assert!(run.stdout.contains("last words before the crash"), "the node's last lines are shown\n{}", run.both());
    // The case itself passed; the node's death is the one failure.
    assert_eq!(totals(&run.stdout), (1, 1, 0), "{}", run.both());

    let allowed = script_suite(script, "ready = { stdout = \"^up$\" }\nmay_exit = true");
    let run = run_in(allowed.path(), &["run", "--timeout-scale", "6"]);
    assert_eq!(run.code, Some(0), "may_exit = true: exiting is fine\n{}", run.both());
    assert_eq!(totals(&run.stdout), (1, 0, 0), "{}", run.both());
}

#[test]
fn capture_goes_on_past_invalid_utf8_nul_bytes_long_lines_and_a_missing_newline() {
    // Every stream gets garbage first; readiness comes after it, so a reader that stopped
    // at the garbage never sees it (and the node would get SIGPIPE on its next write).
    let script = r#"
printf 'bad \377\376 bytes\n'
printf 'nul\000byte\n' >&2
printf '\377 not an event\n' > "$1"
head -c 2097152 /dev/zero | tr '\0' x
printf '\nno newline at the end of this one'
sleep 0.2
echo
echo up
echo '{"ready": {}}' > "$1"
exec sleep 30
"#;
    for ready in [r#"ready = { stdout = "^up$" }"#, r#"ready = { event = "ready" }"#] {
        let dir = script_suite(script, ready);
        let run = run_in(dir.path(), &["run"]);
        assert_eq!(run.code, Some(0), "{ready}: capture went on to the ready line\n{}", run.both());
        assert_eq!(totals(&run.stdout), (1, 0, 0), "{}", run.both());
    }
}

#[test]
fn an_existing_home_the_host_did_not_make_is_never_deleted() {
    let keys = "ready = { stdout = \"^up$\" }\nhome = \"existing\"";
    let dir = script_suite("echo up; exec sleep 30", keys);
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("precious.txt"), "keep me").unwrap();

    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(run.stdout.contains("already exists and was not made by host"), "{}", run.both());
    assert_eq!(std::fs::read_to_string(existing.join("precious.txt")).unwrap(), "keep me");

    // With persist_home it is used as it is, and still kept.
    let text = std::fs::read_to_string(dir.path().join("tests.toml")).unwrap();
    std::fs::write(dir.path().join("tests.toml"), format!("persist_home = true\n{text}")).unwrap();
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(std::fs::read_to_string(existing.join("precious.txt")).unwrap(), "keep me");
    // The run's directory (logs) is kept too, and said so: this test's to remove.
    let both = run.both();
    let kept = both
        .lines()
        .find_map(|line| line.split("persist_home: node homes and logs kept in ").nth(1))
        .unwrap_or_else(|| panic!("where the logs were kept is said: {both}"));
    assert!(Path::new(kept.trim()).join("1-1-faulty").is_dir(), "{both}");
    std::fs::remove_dir_all(kept.trim()).unwrap();
}

#[test]
fn a_home_the_host_made_is_removed_after_the_run() {
    let dir = script_suite("echo up; touch \"$HOME_MARK\"; exec sleep 30", "ready = { stdout = \"^up$\" }\nhome = \"fresh/home\"");
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(!dir.path().join("fresh/home").exists(), "the home the host made is gone");
    assert!(dir.path().join("tests.toml").exists() && dir.path().join("node.sh").exists());
}

#[test]
fn a_home_that_is_the_suite_or_above_it_is_a_config_error_and_nothing_is_deleted() {
    for home in [".", "", "..", "~/", "/", "./sub/..", "\u{0}x"] {
        let value = home.replace('\u{0}', "\\u0000");
        let dir = script_suite("echo up; exec sleep 30", &format!("home = \"{value}\""));
        for command in ["check", "run"] {
            let run = run_in(dir.path(), &[command]);
            assert_eq!(run.code, Some(2), "home = {home:?}, host {command}\n{}", run.both());
            assert!(run.stderr.contains("tests.nodes.home"), "home = {home:?}: names the key\n{}", run.both());
            assert!(run.stderr.contains("tests.toml:"), "home = {home:?}: names the file and line\n{}", run.both());
        }
        assert!(dir.path().join("tests.toml").exists() && dir.path().join("node.sh").exists(), "home = {home:?}");
    }
}

#[test]
fn a_process_that_escapes_its_nodes_group_does_not_outlive_the_run() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let unique = format!("{}.{nanos:09}", 400 + std::process::id() % 100);
    // A new session and process group of its own, out of reach of the node's group.
    let script = format!("setsid sleep {unique} & echo up; exec sleep 30");
    let dir = script_suite(&script, "ready = { stdout = \"^up$\" }");
    let run = run_in(dir.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(&unique))
        .collect();
    assert!(left.is_empty(), "escaped processes outlived the run: {left:?}\n{}", run.both());
    assert!(run.stdout.contains("killed 1 process(es) that nodes or scripts left running"), "{}", run.both());
}

#[test]
fn a_node_flooding_its_output_and_event_pipe_does_not_grow_the_host() {
    // A gigabyte of output in 512 KiB lines, and 200 MiB of event lines, before ready.
    let script = r#"
line=$(head -c 524288 /dev/zero | tr '\0' x)
yes "$line" | head -n 2000
yes "{\"flood\": \"$line\"}" | head -n 400 > "$1"
echo up
exec sleep 30
"#;
    let dir = script_suite(script, "ready = { stdout = \"^up$\" }");
    let (run, peak_kib) = common::run_measuring_peak(dir.path(), &["run"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(peak_kib > 0, "the host's memory was read");
    assert!(peak_kib < 150 * 1024, "the host peaked at {} MiB for a gigabyte of node output", peak_kib / 1024);
}
