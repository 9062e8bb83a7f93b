//! A package whose cases try to turn a failure into a pass, flood the host with output,
//! or name host files as their failure location. Used by `host/tests/hostile_packages.rs`
//! (every case must end as a failure with the right reason), never by the root suite.

use std::io::Write;

use guest_sdk::bindings::host::test::outcome;
use guest_sdk::bindings::host::test::protocol::FailResponse;
use guest_sdk::{Context, Failure, Level, TestResult, test_package};

test_package!(
    logs_a_million_lines_then_passes,
    logs_one_huge_line_then_passes,
    writes_a_million_lines_then_passes,
    prints_a_million_lines,
    reports_a_failure_then_passes,
    reports_a_failure_then_traps,
    writes_past_the_cap_then_traps,
    hits_the_memory_limit_then_passes,
    fails_at_a_relative_path_out_of_the_package,
    fails_at_an_absolute_host_path,
);

/// One KiB of text per line (with the level prefix and newline, a little more).
fn kib_line(n: usize) -> String {
    let mut line = format!("line {n:07} ");
    line.extend(std::iter::repeat_n('x', 1024 - line.len()));
    line
}

fn logs_a_million_lines_then_passes(_ctx: &Context) -> TestResult {
    for n in 0..1_000_000 {
        guest_sdk::log(Level::Info, &kib_line(n));
    }
    Ok(())
}

fn logs_one_huge_line_then_passes(_ctx: &Context) -> TestResult {
    let huge = "y".repeat(4 << 20);
    guest_sdk::log(Level::Info, &huge);
    Ok(())
}

fn writes_a_million_lines_then_passes(_ctx: &Context) -> TestResult {
    let mut stdout = std::io::stdout();
    for n in 0..1_000_000 {
        // Errors (the host refusing output past its cap) are ignored on purpose.
        let _ = writeln!(stdout, "{}", kib_line(n));
    }
    Ok(())
}

fn prints_a_million_lines(_ctx: &Context) -> TestResult {
    for n in 0..1_000_000 {
        eprintln!("{}", kib_line(n));
    }
    Ok(())
}

fn report(message: &str) {
    outcome::report_failure(&FailResponse {
        test: "ignored".into(),
        file: "hostile-verdicts/src/lib.rs".into(),
        line: 1,
        column: 1,
        message: message.into(),
    });
}

fn reports_a_failure_then_passes(_ctx: &Context) -> TestResult {
    report("reported, then returned Ok");
    Ok(())
}

fn reports_a_failure_then_traps(_ctx: &Context) -> TestResult {
    report("reported, then trapped");
    std::process::abort()
}

fn writes_past_the_cap_then_traps(_ctx: &Context) -> TestResult {
    let mut stdout = std::io::stdout();
    for n in 0..2_000 {
        let _ = writeln!(stdout, "{}", kib_line(n));
    }
    std::process::abort()
}

fn hits_the_memory_limit_then_passes(_ctx: &Context) -> TestResult {
    let mut hoard: Vec<u8> = Vec::new();
    // Over the 512 MiB limit: the host refuses to grow memory and the allocation fails
    // gracefully; the case shrugs it off.
    let refused = hoard.try_reserve(600 << 20).is_err();
    guest_sdk::log(Level::Info, &format!("allocation refused: {refused}"));
    Ok(())
}

fn fails_at_a_relative_path_out_of_the_package(_ctx: &Context) -> TestResult {
    Err(Failure::at("../../../../etc/passwd", 1, 1, "names a host file by a relative path"))
}

fn fails_at_an_absolute_host_path(_ctx: &Context) -> TestResult {
    Err(Failure::at("/etc/passwd", 1, 1, "names a host file by an absolute path"))
}
