//! Write on one node, read it back through another: replication across the test's nodes.

use guest_sdk::{Context, TestResult, ensure, ensure_eq, info, test_package};
use kv_client::KvClient;

test_package!(write_on_first_read_on_every_node);

fn write_on_first_read_on_every_node(ctx: &Context) -> TestResult {
    let nodes = ctx.nodes();
    ensure!(nodes.len() >= 2, "this test needs at least two nodes, got {}", nodes.len());
    let first = &nodes[0];
    KvClient::connect(&first.address)?.set("greeting", "hello from the sandbox")?;
    info!("wrote greeting on {}", first.name);
    for node in &nodes[1..] {
        let value = KvClient::connect(&node.address)?.get("greeting")?;
        ensure_eq!(value.as_deref(), Some("hello from the sandbox"), "greeting read on {}", node.name);
        info!("read greeting back on {}", node.name);
    }
    Ok(())
}
