//! Cases that fail on purpose, in the ways the host must report precisely.
//! Used by the host's integration tests, not by the root suite. The tests find the
//! expected lines by the `// MARK:` comments, so keep each marker on its failing line.

use guest_sdk::{Context, TestResult, ensure_eq, fail, test_package};
use kv_client::KvClient;

test_package!(passes, fails_with_message, unequal_values, panics, unwraps_none, io_error_with_question_mark);

fn passes(_ctx: &Context) -> TestResult {
    Ok(())
}

fn fails_with_message(ctx: &Context) -> TestResult {
    let nodes = ctx.node_names().len();
    fail!("the answer is {} but {nodes} nodes were given", 42); // MARK: fail
}

fn unequal_values(_ctx: &Context) -> TestResult {
    ensure_eq!(1 + 1, 3, "arithmetic"); // MARK: ensure_eq
    Ok(())
}

fn panics(_ctx: &Context) -> TestResult {
    let values: Vec<u32> = Vec::new();
    assert!(!values.is_empty(), "values must not be empty"); // MARK: panic
    Ok(())
}

fn unwraps_none(_ctx: &Context) -> TestResult {
    let missing: Option<u32> = None;
    missing.unwrap(); // MARK: unwrap
    Ok(())
}

fn io_error_with_question_mark(ctx: &Context) -> TestResult {
    let node = ctx.node(&ctx.node_names()[0])?;
    // Port 1 of the node's host is not a node address: the sandbox refuses it.
    let address = format!("{}:1", node.host);
    KvClient::connect(&address)?; // MARK: question_mark
    Ok(())
}
