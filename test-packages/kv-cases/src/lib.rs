//! Several named cases against one node: each is listed, run and reported on its own.

use guest_sdk::{Context, TestResult, ensure_eq, test_package};
use kv_client::KvClient;

test_package!(ping_answers, missing_key_is_absent, overwrite_keeps_last_value, values_keep_spaces);

fn first(ctx: &Context) -> Result<KvClient, guest_sdk::Failure> {
    let node = ctx.node(&ctx.node_names()[0])?;
    Ok(KvClient::connect(&node.address)?)
}

fn ping_answers(ctx: &Context) -> TestResult {
    first(ctx)?.ping()?;
    Ok(())
}

fn missing_key_is_absent(ctx: &Context) -> TestResult {
    ensure_eq!(first(ctx)?.get("never-written")?, None);
    Ok(())
}

fn overwrite_keeps_last_value(ctx: &Context) -> TestResult {
    let mut client = first(ctx)?;
    client.set("counter", "1")?;
    client.set("counter", "2")?;
    ensure_eq!(client.get("counter")?.as_deref(), Some("2"));
    Ok(())
}

fn values_keep_spaces(ctx: &Context) -> TestResult {
    let mut client = first(ctx)?;
    client.set("sentence", "a b  c")?;
    ensure_eq!(client.get("sentence")?.as_deref(), Some("a b  c"));
    Ok(())
}
