//! Write `host` test packages in Rust.
//!
//! A test package is a WebAssembly component of the `tester` world in `wit/`. This
//! crate gives it:
//!
//! - [`test_package!`]: declares the package's named cases and exports the world;
//! - [`fail!`], [`ensure!`], [`ensure_eq!`], [`ensure_ne!`]: end a case with a failure
//!   that carries the caller's file, line, column and a message;
//! - a panic hook, so a plain `assert!`, `unwrap()` or `panic!` becomes a failure with
//!   the panic's message and location instead of a bare trap or a timeout;
//! - [`Context`]: the test's nodes (names, addresses, ports, homes) and the time budget;
//! - [`Node`]: wait for a node's events, stop/resume/terminate/kill/start/restart it, read
//!   its status, memory and output;
//! - [`network`]: partitions, cuts and byte faults between the nodes (`network_faults`);
//! - [`log`] and the [`info!`]-style macros: leveled logs in the host's report;
//! - [`test_suite!`] (the 0.2 world, `wit/v0.2/`): fixtures (`init`, `end`, `init_case`,
//!   `end_case`) with a [`Config`], [`skip!`], [`comment`], case docs and [`timetrap`]s;
//! - [`m_out_of_n`] and [`do_times`]: test_server's helpers for steps that need tries.
//!
//! ```ignore
//! use guest_sdk::{Context, TestResult, ensure_eq, test_package};
//!
//! test_package!(answers_ping);
//!
//! fn answers_ping(ctx: &Context) -> TestResult {
//!     let node = ctx.node("first.dev")?;
//!     ensure_eq!(node.port > 0, true, "node has a port");
//!     Ok(())
//! }
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2` (crate type `cdylib`), or
//! let `host run` build the package directory for you.

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

mod context;
pub mod handler;
mod failure;
mod macros;
pub mod network;
pub mod node;
mod repeat;
mod runtime;
pub mod suite;

/// Bindings generated from `wit/tester.wit`, the single source of truth of the contract.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "tester",
        pub_export_macro: true,
        default_bindings_module: "guest_sdk::bindings",
    });
}

pub use bindings::host::test::log::Level;
pub use bindings::host::test::nodes::{NamedPort, NodeInfo};
pub use context::Context;
pub use failure::{Failure, TestResult};
pub use node::{Node, NodeError};

/// The node called `name` (see [`Node`]): `node("e1").port("client")`.
pub fn node(name: &str) -> Node {
    Node::named(name)
}
pub use repeat::{do_times, m_out_of_n};
pub use runtime::{Case, handle, list_cases};
pub use suite::{Config, Stop, SuiteResult, break_here, comment, timetrap};

/// Log `message` at `level` into the host's report for the running case.
pub fn log(level: Level, message: &str) {
    bindings::host::test::log::log(level, message);
}
