//! A case that fails on its first attempt in a run and passes on the next: what
//! `--retries` must report as flaky. The attempt count lives in the package's scratch
//! directory, which is fresh for every run and shared by the retries.

use guest_sdk::{Context, TestResult, fail, test_package};

test_package!(passes_on_the_second_attempt);

fn passes_on_the_second_attempt(_ctx: &Context) -> TestResult {
    let path = "/scratch/attempts";
    let attempts: u32 = std::fs::read_to_string(path).ok().and_then(|text| text.trim().parse().ok()).unwrap_or(0) + 1;
    std::fs::write(path, attempts.to_string())?;
    if attempts < 2 {
        fail!("attempt {attempts} fails on purpose");
    }
    Ok(())
}
