//! A case bound by time, not CPU: it sleeps half a second (scaled by the run's timeout
//! scale). Four tests of it show what `-j 4` buys over `-j 1`.

use std::time::Duration;

use guest_sdk::{Context, TestResult, test_package};

test_package!(sleeps_half_a_second);

fn sleeps_half_a_second(ctx: &Context) -> TestResult {
    ctx.sleep(Duration::from_millis(500));
    Ok(())
}
