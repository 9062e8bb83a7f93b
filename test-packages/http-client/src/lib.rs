//! HTTP from a package the ecosystem's way: `waki`, a wasi:http client from crates.io.
//! The host grants `wasi:http/outgoing-handler` with the reach of the sandbox's sockets:
//! the test's nodes, nothing else.

use guest_sdk::{Context, Failure, TestResult, ensure, ensure_eq, fail, test_package};

test_package!(a_node_answers_over_wasi_http, a_request_to_anything_else_is_refused);

fn a_node_answers_over_wasi_http(ctx: &Context) -> TestResult {
    let web = ctx.node("web")?;
    let response = waki::Client::new()
        .get(&format!("http://{}/greeting.txt", web.address))
        .send()
        .map_err(|e| Failure::here(format!("GET from the node failed: {e:?}")))?;
    ensure_eq!(response.status_code(), 200);
    let body = response.body().map_err(|e| Failure::here(format!("{e:?}")))?;
    ensure_eq!(String::from_utf8_lossy(&body).trim(), "hello over wasi:http");
    Ok(())
}

fn a_request_to_anything_else_is_refused(_ctx: &Context) -> TestResult {
    // Port 9 of this machine is not a node of the test.
    match waki::Client::new().get("http://127.0.0.1:9/").send() {
        Ok(response) => fail!("a request outside the test's nodes went out: HTTP {}", response.status_code()),
        Err(error) => {
            let text = format!("{error:?}");
            ensure!(text.contains("Denied"), "refused with the wrong error: {text}");
        }
    }
    Ok(())
}
