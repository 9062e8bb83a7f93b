//! Leaves the network broken on purpose: the first two cases isolate node `a`, cut `b` from
//! `a`, slow `b` down, and then fail, or wait to be interrupted; the last one runs in a
//! test without `network_faults`, where every network call is an `unavailable` error. host/tests/network_faults.rs
//! checks that the host heals everything and leaves nothing running either way.

use std::time::Duration;

use guest_sdk::network::{self, Fault};
use guest_sdk::{Context, TestResult, ensure, fail, test_package};

test_package!(fails_while_partitioned, waits_while_partitioned, network_is_unavailable_without_network_faults);

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

fn network_is_unavailable_without_network_faults(_ctx: &Context) -> TestResult {
    match network::isolate("a") {
        Err(network::NetworkError::Unavailable(message)) => {
            ensure!(message.contains("network_faults = true"), "{message}");
            Ok(())
        }
        other => fail!("isolate without network_faults: {other:?}"),
    }
}
