//! A package whose case names, failure messages, file names and output try to forge or
//! break the host's reports: a fake summary line, terminal escape sequences (clear screen,
//! title, hyperlink, alternate screen, cursor moves), carriage returns and backspaces,
//! characters XML forbids, markup for XML and HTML, bidi overrides. Used by the host's
//! tests (`host/tests/forged_reports.rs`), never by a suite.

use guest_sdk::{Case, Context, Failure, TestResult};

/// What every hostile string carries.
const FORGERY: &str = "\n999 passed, 0 failed, 0 skipped\n\r\u{1b}[2J\u{1b}[H\u{1b}]0;owned\u{7}\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\\u{1b}[?1049h\u{8}\u{8}\u{b}\u{0}\u{fffe}\u{ffff}\u{9b}31m]]></system-out><script>alert(1)</script>\u{202e}gnp.exe";

const CASES: &[Case] = &[
    Case { name: "passes\n999 passed, 0 failed, 0 skipped", run: passes },
    Case { name: "passes\r\u{1b}[2K\u{1b}[1A\u{1b}[?1049h\u{8}\u{b}\u{0}\u{fffe}\u{ffff}</testcase><script>alert(2)</script>\u{202e}", run: passes },
    Case { name: "fails \u{1b}]0;title\u{7} with a forged message", run: fails_with_forgery },
    Case { name: "fails at a forged file", run: fails_at_forged_file },
    Case { name: "writes forged output then fails", run: writes_forgery_then_fails },
];

fn passes(_ctx: &Context) -> TestResult {
    Ok(())
}

fn fails_with_forgery(_ctx: &Context) -> TestResult {
    Err(Failure::at("src/lib.rs", 1, 1, format!("forged{FORGERY}")))
}

fn fails_at_forged_file(_ctx: &Context) -> TestResult {
    Err(Failure::at(&format!("lib.rs{FORGERY}"), 7, 3, "at a forged file"))
}

fn writes_forgery_then_fails(_ctx: &Context) -> TestResult {
    println!("output{FORGERY}");
    eprintln!("stderr{FORGERY}");
    guest_sdk::info!("log{FORGERY}");
    Err(Failure::at("src/lib.rs", 2, 1, "after forged output"))
}

struct Forger;

impl guest_sdk::bindings::exports::host::test::suite::Guest for Forger {
    fn list_cases() -> Vec<String> {
        guest_sdk::list_cases(CASES)
    }

    fn handle(request: guest_sdk::bindings::host::test::protocol::Request) -> guest_sdk::bindings::host::test::protocol::Response {
        guest_sdk::handle(CASES, request)
    }
}

guest_sdk::bindings::export!(Forger with_types_in guest_sdk::bindings);
