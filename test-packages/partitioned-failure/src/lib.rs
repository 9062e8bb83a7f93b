//! Leaves the network broken on purpose: each case isolates node `a`, cuts `b` from `a`,
//! slows `b` down, and then fails, or waits to be interrupted. host/tests/network_faults.rs
//! checks that the host heals everything and leaves nothing running either way.

use std::time::Duration;

use guest_sdk::network::{self, Fault};
use guest_sdk::{Context, TestResult, fail, test_package};

test_package!(fails_while_partitioned, waits_while_partitioned);

fn break_everything() -> TestResult {
    network::isolate("a")?;
    network::cut("b", "a")?;
    network::node("b").fault(Fault::Latency { ms: 500, jitter_ms: 0 })?;
    Ok(())
}

fn fails_while_partitioned(_ctx: &Context) -> TestResult {
    break_everything()?;
    fail!("failing on purpose with a isolated")
}

fn waits_while_partitioned(ctx: &Context) -> TestResult {
    break_everything()?;
    ctx.sleep(Duration::from_secs(600));
    Ok(())
}
