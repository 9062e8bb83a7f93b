//! The 0.2 world's suite shape (`wit/v0.2/tester.wit`) end to end, with the real binary,
//! a real kvnode node and real components: one suite written alike with each of the five
//! SDKs (`suite-shape` in Rust, `python-suite-shape`, `js-suite-shape`, `c-suite-shape`,
//! `go-suite-shape`) and checked by the same `check_suite`. Each run has four tests: the
//! suite next to a 0.1 package (`kv-cases`), the suite with a failing `init`
//! (`SUITE_INIT=fail`), with a failing `end` (`SUITE_END=fail`), and with an `init` that
//! skips (`SUITE_INIT=skip`). Checked in every report: order and config (the suite's own
//! `order_is_kept` and `config_passes_through` cases), user and auto skips counted apart,
//! the comment and the doc (also in `host list --verbose`), the timetrap that fires and the
//! one cancelled. Also here: extreme timetraps, and test_server's `m_out_of_n`/`do_times`.

mod common;

use std::path::Path;

use common::html_dom::Page;
use common::{has_tool, package, repo, run_in, suite};
use serde_json::Value;

/// A tests.toml with the four tests for the suite package at `test-packages/<dir>`.
fn shape_suite(dir: &str) -> tempfile::TempDir {
    let (pkg, kv) = (package(dir), package("kv-cases"));
    let test = |name: &str, packages: String, env: &str| {
        format!(
            "\n[[tests]]\nname = \"{name}\"\ntest_package_paths = [{packages}]\ntimeout_secs = 60\n{env}\
             [[tests.nodes]]\nfake_node_name = \"first.dev\"\n"
        )
    };
    let mut text = "runtime = { RepoPath = \"{repo}/kvnode\" }\n".to_string();
    text += &test("shape", format!("\"{pkg}\", \"{kv}\""), "");
    text += &test("init-fails", format!("\"{pkg}\""), "[tests.sandbox]\nenv = { SUITE_INIT = \"fail\" }\n");
    text += &test("end-fails", format!("\"{pkg}\""), "[tests.sandbox]\nenv = { SUITE_END = \"fail\" }\n");
    text += &test("init-skips", format!("\"{pkg}\""), "[tests.sandbox]\nenv = { SUITE_INIT = \"skip\" }\n");
    suite(&text)
}

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect()
}

/// The `case_finished` outcome of `test/package/case`.
fn outcome<'a>(events: &'a [Value], test: &str, package: &str, case: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["type"] == "case_finished" && e["test"] == test && e["package"] == package && e["case"] == case)
        .map(|e| &e["outcome"])
        .unwrap_or_else(|| panic!("no case_finished for {test}/{package}/{case}"))
}

const PASSING: [&str; 4] = ["config_passes_through", "leaves_a_comment", "cancelled_timetrap_does_not_fire", "order_is_kept"];
const ALL: [&str; 7] = [
    "config_passes_through",
    "skips_itself",
    "leaves_a_comment",
    "init_case_fails_here",
    "timetrap_fires",
    "cancelled_timetrap_does_not_fire",
    "order_is_kept",
];

/// Run the suite of `test-packages/<dir>` (package name `name`) and check every report.
fn check_suite(dir: &str, name: &str) {
    let suite = shape_suite(dir);
    let out = tempfile::tempdir().unwrap();
    let (junit, report) = (out.path().join("junit.xml"), out.path().join("report"));
    let args = ["run", suite.path().to_str().unwrap(), "--keep-going", "--format", "json"];
    let junit_arg = ["--junit", junit.to_str().unwrap(), "--report", report.to_str().unwrap()];
    let run = run_in(&repo(), &[&args[..], &junit_arg[..]].concat());
    assert_eq!(run.code, Some(1), "the timetrap and the fixtures fail:\n{}", run.both());
    let events = events(&run.stdout);

    // The suite next to a 0.1 package: config and order held (the suite's own checks).
    for case in PASSING {
        assert_eq!(outcome(&events, "shape", name, case)["status"], "passed", "{case}: {}", run.both());
        assert_eq!(outcome(&events, "end-fails", name, case)["status"], "passed", "end-fails leaves {case} passed");
    }
    for case in ["ping_answers", "missing_key_is_absent"] {
        assert_eq!(outcome(&events, "shape", "kv-cases", case)["status"], "passed", "the 0.1 package runs");
    }
    let skipped = outcome(&events, "shape", name, "skips_itself");
    assert_eq!((&skipped["status"], &skipped["kind"], &skipped["reason"]), (&"skipped".into(), &"user".into(), &"not on this platform".into()));
    let auto = outcome(&events, "shape", name, "init_case_fails_here");
    assert_eq!((&auto["status"], &auto["kind"]), (&"skipped".into(), &"auto".into()), "{auto}");
    assert!(auto["reason"].as_str().unwrap().starts_with("init-case failed:"), "{auto}");
    assert!(auto["reason"].as_str().unwrap().contains("init-case refuses init_case_fails_here"), "{auto}");
    let trapped = outcome(&events, "shape", name, "timetrap_fires");
    assert_eq!(trapped["failure"]["kind"], "timeout", "{trapped}");
    // The case sleeps (a WASI call) when its timetrap fires, in every language.
    assert!(trapped["failure"]["message"].as_str().unwrap().contains("timetrap of 0.500s fired while blocked in a WASI call"), "{trapped}");

    // A failing init: reported once on its own, every case auto-skipped with its reason, no end.
    let fixtures: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "fixture_failed")
        .map(|e| (e["test"].as_str().unwrap(), e["fixture"].as_str().unwrap()))
        .collect();
    assert_eq!(fixtures, [("init-fails", "init"), ("end-fails", "end")]);
    for case in ALL {
        let skipped = outcome(&events, "init-fails", name, case);
        assert_eq!(skipped["kind"], "auto", "{case}: {skipped}");
        let reason = skipped["reason"].as_str().unwrap();
        assert!(reason.starts_with("init failed: ") && reason.contains("init was told to fail"), "{case}: {reason}");
    }

    // An init that skips: every case user-skipped with its reason, and no failure.
    for case in ALL {
        let skipped = outcome(&events, "init-skips", name, case);
        assert_eq!(skipped["kind"], "user", "{case}: {skipped}");
        assert_eq!(skipped["reason"], "init skipped the package: init was told to skip", "{case}");
    }

    // Counted apart: 9 user skips (skips_itself in shape and end-fails, 7 after the skipping
    // init), 9 auto (one init-case in shape and end-fails, 7 after the failed init);
    // 4 failures (2 timetraps, init, end).
    let totals = &events.iter().find(|e| e["type"] == "run_finished").expect("run_finished")["totals"];
    let counts = ["passed", "failed", "skipped", "user_skipped", "auto_skipped"].map(|key| totals[key].as_u64().unwrap());
    assert_eq!(counts, [12, 4, 18, 9, 9], "{totals}");

    // The comment and the doc, in JSON…
    let note = events
        .iter()
        .find(|e| e["type"] == "case_annotated" && e["test"] == "shape" && e["case"] == "leaves_a_comment")
        .expect("case_annotated");
    assert_eq!((&note["comment"], &note["doc"]), (&"the answer is 42".into(), &"leaves a comment for the report".into()));
    // Its break was skipped: the tests' host has no terminal and no continue file.
    let finished = events.iter().find(|e| e["type"] == "case_finished" && e["test"] == "shape" && e["case"] == "leaves_a_comment").unwrap();
    let skipped = "[BREAK] skipped (no terminal on the host's stdin and no --continue-file): look at first.dev";
    assert!(finished["output"].as_str().unwrap().contains(skipped), "{finished}");
    assert!(!events.iter().any(|e| e["type"] == "break_started"), "no break without a way to go on");
    check_break(&suite, name);

    // …in JUnit…
    let xml = std::fs::read_to_string(&junit).unwrap();
    for expected in [
        r#"<skipped message="not on this platform" type="user_skip"/>"#,
        r#"<property name="comment" value="the answer is 42"/>"#,
        r#"<property name="doc" value="leaves a comment for the report"/>"#,
        r#"type="auto_skip""#,
        r#"<testcase name="init" classname="init-fails/"#,
        r#"<testcase name="end" classname="end-fails/"#,
    ] {
        assert!(xml.contains(expected), "JUnit lacks {expected}:\n{xml}");
    }

    // …in HTML…
    check_html(&report.join("index.html"), name);

    // …and on the terminal (docs with --verbose).
    let run = run_in(&repo(), &["run", suite.path().to_str().unwrap(), "--keep-going", "--verbose", "--color", "never"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let lines: Vec<&str> = run.stdout.lines().map(str::trim).collect();
    let at = lines.iter().position(|l| l.starts_with("PASS") && l.ends_with(&format!("shape/{name}/leaves_a_comment"))).expect("its line");
    assert_eq!(&lines[at + 1..at + 3], ["doc: leaves a comment for the report", "comment: the answer is 42"], "{}", run.both());
    assert!(lines.iter().any(|l| l.ends_with("skips_itself (by the package: not on this platform)")), "{}", run.both());
    assert!(lines.iter().any(|l| l.starts_with("FAIL") && l.contains(&format!("end-fails/{name} (end): "))), "{}", run.both());
    assert!(lines.contains(&"12 passed, 4 failed, 18 skipped (9 by the package, 9 by the host)"), "{}", run.both());

    // `host list --verbose`: each case's doc after its id.
    let listed = run_in(&repo(), &["list", suite.path().to_str().unwrap(), "--verbose"]);
    assert_eq!(listed.code, Some(0), "{}", listed.both());
    let line = format!("shape/{name}/leaves_a_comment\tleaves a comment for the report");
    assert!(listed.stdout.lines().any(|l| l == line), "{}", listed.both());
    assert!(listed.stdout.lines().any(|l| l == format!("shape/{name}/init_case_fails_here")), "no doc, no tab");
}

/// With a continue file that exists, `leaves_a_comment`'s break pauses and ends at once:
/// announced with the case, its comment and the node, and `break-here` returns true.
fn check_break(suite: &tempfile::TempDir, name: &str) {
    let go_on = suite.path().join("go-on");
    std::fs::write(&go_on, "").unwrap();
    let filter = format!("shape/{name}/leaves_a_comment");
    let args = ["run", suite.path().to_str().unwrap(), &filter, "--format", "json", "--continue-file", go_on.to_str().unwrap()];
    let run = run_in(&repo(), &args);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let started: Vec<&Value> = events.iter().filter(|e| e["type"] == "break_started").collect();
    assert_eq!(started.len(), 1, "{}", run.both());
    let case = format!("{name}/leaves_a_comment");
    assert_eq!((&started[0]["test"], &started[0]["case"], &started[0]["comment"]), (&"shape".into(), &case.into(), &"look at first.dev".into()));
    assert_eq!(started[0]["nodes"][0]["node"], "first.dev", "{}", started[0]);
    let ended: Vec<&Value> = events.iter().filter(|e| e["type"] == "break_ended").collect();
    assert_eq!(ended.len(), 1, "{}", run.both());
    assert_eq!(ended[0]["why"], "continue file created");
    let note = events.iter().find(|e| e["type"] == "case_annotated").expect("case_annotated");
    assert_eq!(note["comment"], "the answer is 42, after a break", "break-here returned true");
}

fn check_html(index: &Path, name: &str) {
    let html = std::fs::read_to_string(index).unwrap();
    let page = Page::parse(&html);
    for (label, value) in [("skipped", "18"), ("user skipped", "9"), ("auto skipped", "9")] {
        let card = page.select("#summary .card").into_iter().find(|card| card.one(".l").text() == label).expect(label);
        assert_eq!(card.one(".n").text(), value, "card {label}");
    }
    let row = page
        .select("#results tr")
        .into_iter()
        .find(|tr| tr.select("code").first().is_some_and(|code| code.text() == format!("shape/{name}/leaves_a_comment")))
        .expect("the case's row");
    assert_eq!(row.one(".doc").text(), "leaves a comment for the report");
    assert_eq!(row.one(".comment").text(), "the answer is 42");
    let text = page.root().text();
    assert!(text.contains("skipped by the package: not on this platform"), "HTML: user skip");
    assert!(text.contains("skipped by the host: init failed: "), "HTML: auto skip");
    assert!(text.contains(&format!("Package {name}: its end failed")), "HTML: the failed end");
}

#[test]
fn the_rust_suite_runs_in_shape_and_every_report_shows_it() {
    check_suite("suite-shape", "suite-shape");
}
#[test]
fn the_python_suite_runs_in_shape_and_every_report_shows_it() {
    assert!(has_tool("componentize-py"), "componentize-py is needed: run scripts/install-tools");
    check_suite("python-suite-shape", "python-suite-shape");
}

#[test]
fn the_js_suite_runs_in_shape_and_every_report_shows_it() {
    assert!(has_tool("node"), "node is needed: run scripts/install-tools");
    let toolchain = repo().join("guest-sdk/js/node_modules/componentize-qjs");
    assert!(toolchain.is_dir(), "componentize-qjs is needed at {}: run scripts/install-tools", toolchain.display());
    check_suite("js-suite-shape", "js-suite-shape");
}

#[test]
fn extreme_timetraps_neither_panic_the_host_nor_escape_the_outer_limits() {
    let suite = suite(&format!(
        "runtime = {{ RepoPath = \"{{repo}}/kvnode\" }}\n[[tests]]\nname = \"t\"\ntest_package_paths = [\"{}\"]\ntimeout_secs = 60\n\
         [[tests.nodes]]\nfake_node_name = \"first.dev\"\n",
        package("suite-hostile")
    ));
    let run = run_in(&repo(), &["run", suite.path().to_str().unwrap(), "--format", "json", "--timeout-scale", "1000"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let events = events(&run.stdout);
    assert_eq!(outcome(&events, "t", "suite-hostile", "timetrap_past_every_limit")["status"], "passed", "{}", run.both());
    let zero = outcome(&events, "t", "suite-hostile", "timetrap_of_zero_fires_at_once");
    assert!(zero["failure"]["message"].as_str().unwrap().contains("timetrap of 0.000s fired"), "{zero}");
}

#[test]
fn a_hostile_comment_or_break_text_is_bounded_and_escaped() {
    let suite = suite(&format!(
        "runtime = {{ RepoPath = \"{{repo}}/kvnode\" }}\n[[tests]]\nname = \"t\"\ntest_package_paths = [\"{}\"]\ntimeout_secs = 60\n\
         [[tests.nodes]]\nfake_node_name = \"first.dev\"\n",
        package("suite-hostile")
    ));
    let go_on = suite.path().join("go-on");
    std::fs::write(&go_on, "").unwrap();
    let filter = "t/suite-hostile/comments_and_breaks_with_a_hostile_text";
    let args = ["run", suite.path().to_str().unwrap(), filter, "--continue-file", go_on.to_str().unwrap()];
    let run = run_in(&repo(), &[&args[..], &["--format", "json"]].concat());
    assert_eq!(run.code, Some(0), "{}", run.both());
    let events = events(&run.stdout);
    let prefix = "evil\n0 passed, 0 failed, 0 skipped\u{1b}[2J\u{1b}]0;title\u{7}x";
    // Kept to 4 KiB, byte for byte what the package gave (JSON escapes the rest).
    for (kind, key) in [("case_annotated", "comment"), ("break_started", "comment")] {
        let text = events.iter().find(|e| e["type"] == kind).and_then(|e| e[key].as_str()).unwrap_or_else(|| panic!("no {kind}: {}", run.both()));
        assert_eq!(text.len(), 4096, "{kind}");
        assert!(text.starts_with(prefix), "{kind}: {text:.80}");
    }
    // On the terminal: escaped, one line each, no forged summary.
    let run = run_in(&repo(), &[&args[..], &["--color", "never", "--verbose"]].concat());
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'), "{}", run.stdout);
    assert_eq!(run.stdout.lines().filter(|l| l.trim_start().starts_with("0 passed")).count(), 0, "{}", run.stdout);
    assert!(run.stdout.contains("evil\\n0 passed, 0 failed, 0 skipped\\u{1b}[2J"), "{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.contains("comments_and_breaks_with_a_hostile_text paused itself")), "{}", run.stdout);
}

#[test]
fn the_c_suite_runs_in_shape_and_every_report_shows_it() {
    for tool in ["clang", "wasm-ld", "wit-bindgen", "wasm-tools"] {
        assert!(has_tool(tool), "{tool} is not installed: run scripts/install-tools (scripts/test does)");
    }
    check_suite("c-suite-shape", "c-suite-shape");
}

#[test]
fn the_go_suite_runs_in_shape_and_every_report_shows_it() {
    for tool in ["go", "wit-bindgen", "wasm-tools"] {
        assert!(has_tool(tool), "{tool} is not installed: run scripts/install-tools (scripts/test does)");
    }
    check_suite("go-suite-shape", "go-suite-shape");
}

/// The line of `marker` in `file` (from 1).
fn line_of(file: &Path, marker: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    1 + text.lines().position(|line| line.contains(marker)).unwrap_or_else(|| panic!("{marker} not in {}", file.display())) as u64
}

#[test]
fn m_out_of_n_and_do_times_count_tries_in_every_language() {
    assert!(has_tool("componentize-py"), "componentize-py is needed: run scripts/install-tools");
    let packages = [
        ("repeat-helpers", "src/lib.rs"),
        ("python-repeat-helpers", "app.py"),
        ("js-repeat-helpers", "app.js"),
        ("go-repeat-helpers", "main.go"),
        ("c-repeat-helpers", "repeat.c"),
    ];
    let paths: Vec<String> = packages.iter().map(|(name, _)| format!("{:?}", package(name))).collect();
    let suite = suite(&format!("[[tests]]\nname = \"tries\"\ntest_package_paths = [{}]\n", paths.join(", ")));
    let run = run_in(&repo(), &["run", suite.path().to_str().unwrap(), "--keep-going", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    let events = events(&run.stdout);
    for (name, source) in packages {
        for case in ["three_of_five_pass_after_two_failures", "stops_once_enough_succeeded", "do_times_runs_every_try"] {
            assert_eq!(outcome(&events, "tries", name, case)["status"], "passed", "{name}/{case}: {}", run.both());
        }
        let source = repo().join("test-packages").join(name).join(source);
        if name == "c-repeat-helpers" {
            // No exception to catch in C: the first failure stops DO_TIMES and stays the case's.
            let failed = outcome(&events, "tries", name, "do_times_fails_at_the_first_error");
            assert_eq!(failed["failure"]["message"], "try 3 refused", "{failed}");
            assert_eq!(failed["failure"]["line"], line_of(&source, "the first failure"), "{failed}");
        } else {
            assert_eq!(outcome(&events, "tries", name, "do_times_stops_at_the_first_error")["status"], "passed", "{name}: {}", run.both());
        }
        let failed = outcome(&events, "tries", name, "too_few_successes_fail_at_the_call");
        let message = failed["failure"]["message"].as_str().unwrap();
        assert_eq!(message, "m_out_of_n(3, 4): 0 of 2 tries succeeded, 3 needed; last error (try 2): try 2 refused", "{name}");
        assert_eq!(failed["failure"]["line"], line_of(&source, "the failing call"), "{name}: {failed}");
    }
}
