//! Host-side bindings generated from `wit/tester.wit`, the contract's single source of truth.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "tester",
    imports: { default: async },
    exports: { default: async },
});

pub use host::test::log::Level;
pub use host::test::nodes::NodeInfo;
pub use host::test::protocol::{FailResponse, Request, Response, RunRequest};
