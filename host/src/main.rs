//! The `host` binary: see `host --help`.

// Rebuilt whenever the checkout it was last built for is another: see .cargo/config.toml.
const _: Option<&str> = option_env!("HOST_CHECKOUT");

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::args::{Cli, Command};
use cli::{commands, exit};

/// wasmtime makes (and drops) an error value each time a store is dropped — once per
/// case — and with `RUST_BACKTRACE=1` in the environment (common in CI) each one captured
/// a backtrace: a third of a trivial case's time. Library backtraces are turned off for
/// this process (panics keep theirs): std reads `RUST_LIB_BACKTRACE` once and keeps the
/// answer, so the variable is restored at once and nodes and builds inherit the user's
/// environment unchanged.
fn library_backtraces_off() {
    const KEY: &str = "RUST_LIB_BACKTRACE";
    let before = std::env::var_os(KEY);
    // SAFETY: the first thing `main` does, before any other thread exists.
    unsafe { std::env::set_var(KEY, "0") };
    let _ = std::backtrace::Backtrace::capture();
    match before {
        // SAFETY: as above, still the only thread.
        Some(value) => unsafe { std::env::set_var(KEY, value) },
        None => unsafe { std::env::remove_var(KEY) },
    }
}

fn main() -> ExitCode {
    library_backtraces_off();
    let cli = Cli::parse();
    if let Command::Watchdog = cli.command {
        host::nodes::groups::watchdog_main(std::io::stdin().lock());
        return ExitCode::SUCCESS;
    }
    if let Err(error) = host::nodes::groups::become_subreaper() {
        eprintln!("warning: cannot become the subreaper of started processes ({error}): a process that escapes its node's group may outlive the run");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Check(args) => commands::check(&args),
            Command::List(args) => commands::list(&args).await,
            Command::Run(args) => commands::run(&args).await,
            Command::Archive(args) => commands::archive(&args).await,
            Command::Watchdog => unreachable!("handled before the runtime starts"),
        }
    });
    ExitCode::from(code)
}
