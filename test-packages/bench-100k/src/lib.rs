//! 100,000 trivial cases (the most a package may declare), each passing at once: what a
//! very large suite costs the host per case, in time and memory (`bench/compare.py`).

use guest_sdk::bindings::exports::host::test::suite::Guest;
use guest_sdk::bindings::host::test::protocol::{Request, Response};

struct Package;

impl Guest for Package {
    fn list_cases() -> Vec<String> {
        (0..100_000).map(|n| format!("case_{n:06}")).collect()
    }

    fn handle(_request: Request) -> Response {
        Response::Run(Ok(()))
    }
}

guest_sdk::bindings::export!(Package with_types_in guest_sdk::bindings);
