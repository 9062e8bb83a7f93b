//! `host`: runs WebAssembly test packages against real native nodes.
//!
//! The pipeline, one module each (see ARCHITECTURE.md):
//! [`config`] (tests.toml → validated plan) → [`suite`] (case ids, the suite index from
//! list-cases, selection: filters, tags, partitions) → [`runner`] (a run, the life of one
//! test) over [`build`] (sources → components and node executables), [`nodes`] (native
//! daemon supervision), [`sandbox`] (wasmtime engine, WASI policy, host interfaces) and
//! [`netfault`] (the TCP proxies of `network_faults`: partitions and byte faults per link) →
//! [`events`] (typed events on a bus) → [`reporters`] (what people and machines read),
//! with [`handlers`] (user event handlers and hooks, sandboxed) beside the reporters;
//! [`archive`] packs a prepared suite to run on another machine without building it.

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

pub mod archive;
pub mod build;
pub mod config;
pub mod events;
pub mod handlers;
pub mod netfault;
pub mod nodes;
pub mod reporters;
pub mod runner;
pub mod sandbox;
pub mod suite;
