//! What a package may do: its scratch directory (read-write, kept across its cases), the
//! data directory (read-only), the environment tests.toml lists, and the timeout scale.

use std::time::Duration;

use guest_sdk::{Context, TestResult, ensure, ensure_eq, test_package};

test_package!(writes_scratch, scratch_is_kept_across_the_packages_cases, reads_but_cannot_write_data, sees_only_the_listed_environment, knows_the_timeout_scale);

fn writes_scratch(_ctx: &Context) -> TestResult {
    std::fs::write("/scratch/note.txt", "written by the first case")?;
    ensure_eq!(std::fs::read_to_string("/scratch/note.txt")?, "written by the first case");
    Ok(())
}

fn scratch_is_kept_across_the_packages_cases(_ctx: &Context) -> TestResult {
    ensure_eq!(std::fs::read_to_string("/scratch/note.txt")?, "written by the first case");
    Ok(())
}

fn reads_but_cannot_write_data(_ctx: &Context) -> TestResult {
    ensure_eq!(std::fs::read_to_string("/data/greeting.txt")?.trim(), "hello from the data dir");
    let write = std::fs::write("/data/greeting.txt", "overwritten");
    ensure!(write.is_err(), "the data dir is read-only");
    Ok(())
}

fn sees_only_the_listed_environment(_ctx: &Context) -> TestResult {
    ensure_eq!(std::env::var("GREETING").as_deref(), Ok("hello"));
    let names: Vec<String> = std::env::vars().map(|(name, _)| name).collect();
    ensure!(!names.iter().any(|name| name == "PATH" || name == "HOME"), "host variables leaked: {names:?}");
    Ok(())
}

fn knows_the_timeout_scale(ctx: &Context) -> TestResult {
    let expected: f64 = std::env::var("EXPECTED_SCALE").map_err(|_| guest_sdk::Failure::here("EXPECTED_SCALE not set"))?.parse().map_err(|_| guest_sdk::Failure::here("EXPECTED_SCALE is not a number"))?;
    ensure_eq!(ctx.timeout_scale(), expected);
    ensure_eq!(ctx.scaled(Duration::from_millis(100)), Duration::from_millis(100).mul_f64(expected));
    Ok(())
}
