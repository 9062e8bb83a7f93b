//! `host`: runs WebAssembly test packages against real native nodes.
//!
//! The pipeline, one module each:
//! [`config`] (tests.toml → validated plan) → [`build`] (sources → components and node
//! executables) → [`nodes`] (native daemon supervision) and [`sandbox`] (wasmtime engine,
//! WASI policy, host interfaces) → [`selection`] (filters, tags, partitions) → [`runner`] (orchestrates tests) → [`events`] (typed
//! events on a bus) → [`reporters`] (what people and machines read).

pub mod build;
pub mod config;
pub mod events;
pub mod nodes;
pub mod reporters;
pub mod runner;
pub mod sandbox;
pub mod selection;
