//! Two cases that can only pass together: each writes its own key to the node, then waits
//! for the other's. Run one after another, the first waits until its timetrap; run at
//! once (`parallel = true`), both pass — whatever the machine's speed.

use std::time::Duration;

use guest_sdk::{Context, TestResult, test_package};
use kv_client::KvClient;

test_package!(left, right);

fn left(ctx: &Context) -> TestResult {
    meet(ctx, "left", "right")
}

fn right(ctx: &Context) -> TestResult {
    meet(ctx, "right", "left")
}

/// Say `mine` is here, then wait (until the case's timetrap) for `theirs`.
fn meet(ctx: &Context, mine: &str, theirs: &str) -> TestResult {
    let node = ctx.node(&ctx.node_names()[0])?;
    let mut client = KvClient::connect(&node.address)?;
    client.set(mine, "here")?;
    while client.get(theirs)?.is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}
