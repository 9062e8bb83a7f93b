//! A package whose `list-cases` names 100,001 cases: the host refuses to load it with an
//! error naming the package (used by `host/tests/hostile_packages.rs`).

use guest_sdk::bindings::exports::host::test::suite::Guest;
use guest_sdk::bindings::host::test::protocol::{Request, Response};

struct Package;

impl Guest for Package {
    fn list_cases() -> Vec<String> {
        (0..100_001).map(|n| format!("case_{n}")).collect()
    }

    fn handle(_request: Request) -> Response {
        Response::Run(Ok(()))
    }
}

guest_sdk::bindings::export!(Package with_types_in guest_sdk::bindings);
