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

/// Host-side bindings of `wit/v0.2/tester.wit`, the 0.2 world (suite shape, timetraps,
/// comments). Its imports of 0.1 interfaces are the 0.1 bindings above, so one set of
/// host implementations serves both worlds.
pub mod v2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2",
        world: "suite-tester",
        imports: { default: async },
        exports: { default: async },
        with: {
            "host:test/protocol@0.1.0": super::host::test::protocol,
            "host:test/log@0.1.0": super::host::test::log,
            "host:test/nodes@0.1.0": super::host::test::nodes,
            "host:test/events@0.1.0": super::host::test::events,
            "host:test/control@0.1.0": super::host::test::control,
            "host:test/timing@0.1.0": super::host::test::timing,
            "host:test/outcome@0.1.0": super::host::test::outcome,
            "host:test/network-faults@0.1.0": super::host::test::network_faults,
        },
    });
}
