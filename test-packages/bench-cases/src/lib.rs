//! 1,000 cases that each return `Ok(())` at once: what remains is host's per-case cost
//! (a fresh store, instantiation, the call, the report).

include!(concat!(env!("OUT_DIR"), "/cases.rs"));
