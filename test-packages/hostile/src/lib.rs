//! A package that misbehaves in every way the sandbox must contain. Used by the host's
//! integration tests (each case must end as a failure with the right reason, and the
//! run must go on), never by the root suite. `// MARK:` comments locate the lines.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use guest_sdk::bindings::host::test::outcome;
use guest_sdk::bindings::host::test::protocol::FailResponse;
use guest_sdk::{Context, Failure, Level, TestResult, test_package};

test_package!(
    reads_etc_passwd,
    reads_the_home_directory,
    connects_to_a_non_node_address,
    connects_to_a_node_port_outside_the_allow_list,
    allocates_until_it_fails,
    spins_forever,
    sleeps_forever,
    recurses_forever,
    prints_forever,
    hits_unreachable,
    divides_by_zero,
    blocks_in_a_host_call,
    logs_a_million_lines_then_passes,
    writes_past_the_output_cap_ignoring_errors_then_passes,
    reports_a_failure_then_returns_ok,
    fails_at_a_path_outside_its_sources,
);

fn reads_etc_passwd(_ctx: &Context) -> TestResult {
    let text = std::fs::read_to_string("/etc/passwd")?; // MARK: passwd
    guest_sdk::info!("read {} bytes", text.len());
    Ok(())
}

fn reads_the_home_directory(_ctx: &Context) -> TestResult {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let entries = std::fs::read_dir(&home)?; // MARK: home
    guest_sdk::info!("listed {} entries", entries.count());
    Ok(())
}

fn connects_to_a_non_node_address(_ctx: &Context) -> TestResult {
    std::net::TcpStream::connect("127.0.0.1:1")?; // MARK: non_node
    Ok(())
}

fn connects_to_a_node_port_outside_the_allow_list(ctx: &Context) -> TestResult {
    let node = ctx.node(&ctx.node_names()[0])?;
    let next = format!("{}:{}", node.host, node.port.wrapping_add(1));
    std::net::TcpStream::connect(&next)?; // MARK: other_port
    Ok(())
}

fn allocates_until_it_fails(_ctx: &Context) -> TestResult {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1; 16 << 20]);
        black_box(&hoard);
    }
}

fn spins_forever(_ctx: &Context) -> TestResult {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

fn sleeps_forever(_ctx: &Context) -> TestResult {
    // A WASI sleep: the host, not the guest, is where the time goes.
    std::thread::sleep(Duration::from_secs(3600));
    Ok(())
}

fn recurse(depth: u64) -> u64 {
    black_box(recurse(black_box(depth + 1)) + 1)
}

fn recurses_forever(_ctx: &Context) -> TestResult {
    black_box(recurse(0));
    Ok(())
}

fn prints_forever(_ctx: &Context) -> TestResult {
    let mut out = std::io::stdout();
    loop {
        writeln!(out, "all work and no play makes a noisy package")?; // MARK: print
    }
}

fn hits_unreachable(_ctx: &Context) -> TestResult {
    core::arch::wasm32::unreachable() // MARK: unreachable
}

fn divides_by_zero(_ctx: &Context) -> TestResult {
    let quotient = black_box(1u32) / black_box(0u32); // MARK: divide
    guest_sdk::info!("{quotient}");
    Ok(())
}

fn blocks_in_a_host_call(ctx: &Context) -> TestResult {
    let node = ctx.control(&ctx.node_names()[0]);
    node.wait_for("never-emitted").timeout(Duration::from_secs(3600)).run()?;
    Ok(())
}

/// A gigabyte of log lines, then "all is well".
fn logs_a_million_lines_then_passes(_ctx: &Context) -> TestResult {
    let line = "x".repeat(1024);
    for _ in 0..1_000_000 {
        guest_sdk::log(Level::Info, &line);
    }
    Ok(())
}

/// Past the output cap with every write error ignored, then "all is well".
fn writes_past_the_output_cap_ignoring_errors_then_passes(_ctx: &Context) -> TestResult {
    let mut out = std::io::stdout();
    let line = "y".repeat(1023);
    for _ in 0..4096 {
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// A failure reported through a host call, then "all is well".
fn reports_a_failure_then_returns_ok(_ctx: &Context) -> TestResult {
    outcome::report_failure(&FailResponse {
        test: "reports_a_failure_then_returns_ok".into(),
        file: "src/lib.rs".into(),
        line: 1,
        column: 1,
        message: "reported, then denied".into(),
    });
    Ok(())
}

/// A failure whose file is a path out of the package: shown as given, never looked up.
fn fails_at_a_path_outside_its_sources(_ctx: &Context) -> TestResult {
    Err(Failure::at("../../../../../../etc/passwd", 1, 1, "a failure that names a host file"))
}
