//! The `host` binary: see `host --help`.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::args::{Cli, Command};
use cli::{commands, exit};

fn main() -> ExitCode {
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
            Command::Watchdog => unreachable!("handled before the runtime starts"),
        }
    });
    ExitCode::from(code)
}
