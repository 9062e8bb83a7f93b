//! A package that lists the case `same` twice: its ids would collide, so host refuses
//! it before running anything.

use guest_sdk::{Context, TestResult, test_package};

fn same(_ctx: &Context) -> TestResult {
    Ok(())
}

test_package!(same, same);
