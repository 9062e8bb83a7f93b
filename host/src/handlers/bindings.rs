//! Host-side bindings of `wit/handler/handler.wit` (package `host:handler`), the handler
//! contract's single source of truth. Calls are synchronous: each handler runs on a
//! thread of its own.

wasmtime::component::bindgen!({
    path: "../wit/handler",
    world: "event-handler",
});

pub use host::handler::types::{
    CaseFinished, CaseId, Event as WitEvent, EventKind, Failure, NodeEvent, NodeLog, Outcome as WitOutcome, PackageFinished,
    PackageStarted, RunFinished, RunStarted, ScriptFinished, TestFinished, TestStarted, Totals as WitTotals,
};
