//! Write `host` event handlers and hooks in Rust: components of the `event-handler`
//! world (`wit/handler/handler.wit`).
//!
//! Implement [`Handler`] and name the type with [`event_handler!`](crate::event_handler).
//! The handler runs in its own sandbox: no network, no environment, and no files but
//! the directory granted to it (`dir` in tests.toml), mounted at [`DIR`].
//!
//! ```ignore
//! use guest_sdk::handler::{Event, EventKind, Handler};
//!
//! struct Durations(std::fs::File);
//!
//! impl Handler for Durations {
//!     fn init(_args: Vec<String>) -> Result<Self, String> {
//!         std::fs::File::create("/data/durations.csv").map(Durations).map_err(|e| e.to_string())
//!     }
//!     fn handle(&mut self, event: Event) -> Result<(), String> {
//!         if let EventKind::CaseFinished(case) = event.kind {
//!             use std::io::Write;
//!             writeln!(self.0, "{},{}", case.id.case, case.duration_secs).map_err(|e| e.to_string())?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! guest_sdk::event_handler!(Durations);
//! ```

/// Bindings generated from `wit/handler/handler.wit`.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/handler",
        world: "event-handler",
        pub_export_macro: true,
        default_bindings_module: "guest_sdk::handler::bindings",
    });
}

pub use bindings::host::handler::types::*;

/// Where the handler's granted directory is mounted.
pub const DIR: &str = "/data";

/// An event handler; hooks are optional (the defaults change nothing).
pub trait Handler: Sized + 'static {
    /// Start, with the arguments of `--event-handler PATH=ARGS` or tests.toml's `args`.
    fn init(args: Vec<String>) -> Result<Self, String>;
    /// One event of the run, in order. An error stops the handler (the run goes on).
    fn handle(&mut self, event: Event) -> Result<(), String>;
    /// The run is over.
    fn terminate(&mut self) {}
    /// Hook (`hooks = true`), for each failed case: a reason turns its failure into a skip.
    fn post_case(&mut self, _case: &CaseId, _outcome: &Outcome) -> Option<String> {
        None
    }
    /// Hook (`hooks = true`), for each failed case: diagnostics to attach to its failure.
    fn on_failure(&mut self, _case: &CaseId, _failure: &Failure, _nodes: &[NodeLog]) -> Option<String> {
        None
    }
}

/// Export `$handler` (a [`Handler`]) as the component's `event-handler` world.
#[macro_export]
macro_rules! event_handler {
    ($handler:ty) => {
        struct __HostEventHandler;

        ::std::thread_local! {
            static __HOST_HANDLER: ::std::cell::RefCell<::std::option::Option<$handler>> =
                const { ::std::cell::RefCell::new(::std::option::Option::None) };
        }

        fn __with_handler<R>(default: R, f: impl FnOnce(&mut $handler) -> R) -> R {
            __HOST_HANDLER.with(|state| match state.borrow_mut().as_mut() {
                ::std::option::Option::Some(handler) => f(handler),
                ::std::option::Option::None => default,
            })
        }

        impl $crate::handler::bindings::exports::host::handler::handler::Guest for __HostEventHandler {
            fn init(args: ::std::vec::Vec<::std::string::String>) -> ::std::result::Result<(), ::std::string::String> {
                let handler = <$handler as $crate::handler::Handler>::init(args)?;
                __HOST_HANDLER.with(|state| *state.borrow_mut() = ::std::option::Option::Some(handler));
                ::std::result::Result::Ok(())
            }

            fn handle(event: $crate::handler::Event) -> ::std::result::Result<(), ::std::string::String> {
                __with_handler(::std::result::Result::Err("not initialised".into()), |h| $crate::handler::Handler::handle(h, event))
            }

            fn terminate() {
                __with_handler((), |h| $crate::handler::Handler::terminate(h))
            }
        }

        impl $crate::handler::bindings::exports::host::handler::hooks::Guest for __HostEventHandler {
            fn post_case(id: $crate::handler::CaseId, outcome: $crate::handler::Outcome) -> ::std::option::Option<::std::string::String> {
                __with_handler(::std::option::Option::None, |h| $crate::handler::Handler::post_case(h, &id, &outcome))
            }

            fn on_failure(
                id: $crate::handler::CaseId,
                failure: $crate::handler::Failure,
                nodes: ::std::vec::Vec<$crate::handler::NodeLog>,
            ) -> ::std::option::Option<::std::string::String> {
                __with_handler(::std::option::Option::None, |h| $crate::handler::Handler::on_failure(h, &id, &failure, &nodes))
            }
        }

        $crate::handler::bindings::export!(__HostEventHandler with_types_in $crate::handler::bindings);
    };
}
