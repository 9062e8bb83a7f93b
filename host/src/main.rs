//! The `host` command line: `host run`, `host list`, `host check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use host::config::{self, ConfigError};
use host::events::EventBus;
use host::reporters::TerminalReporter;
use host::runner;
use host::sandbox::{CompileCache, Sandbox};

/// Exit codes, as documented in the README.
mod exit {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const INTERRUPTED: u8 = 130;
}

/// Run WebAssembly test packages against real native nodes.
///
/// host reads a tests.toml (Kinode kit's format, extended for any daemon), boots the
/// nodes each test needs as supervised native processes, and runs each test package —
/// a WebAssembly component of the `tester` world in wit/ — in a sandbox that can reach
/// only those nodes.
#[derive(Debug, Parser)]
#[command(name = "host", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the packages, boot the nodes and run every test.
    ///
    /// Exit status: 0 when everything passed, 1 when a test failed, 2 for bad arguments,
    /// a bad tests.toml or a package that cannot be built or loaded, 130 when interrupted.
    Run(Common),
    /// Print every test, package and case, one per line (`test`, `test/package`,
    /// `test/package/case`), without booting nodes.
    List(Common),
    /// Validate tests.toml (keys, values, paths) without building or running anything.
    Check(CheckArgs),
    /// Internal: kill the process groups a dead host leaves behind.
    #[command(name = "__watchdog", hide = true)]
    Watchdog,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// A tests.toml, or a directory holding one.
    #[arg(default_value = "tests.toml")]
    path: PathBuf,
}

#[derive(Debug, Args)]
struct Common {
    /// A tests.toml, or a directory holding one.
    #[arg(default_value = "tests.toml")]
    path: PathBuf,
    /// Where compiled components are cached between runs [default: $HOST_CACHE_DIR,
    /// else $XDG_CACHE_HOME/host, else ~/.cache/host].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every component afresh and do not write the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Multiply every timeout (timeout_secs, case_timeout_secs, boot timeouts) by FACTOR,
    /// for slow machines; packages read it through the `timing` interface.
    #[arg(long, env = "HOST_TIMEOUT_SCALE", value_name = "FACTOR", value_parser = parse_scale)]
    timeout_scale: Option<f64>,
}

fn parse_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(factor) if factor.is_finite() && factor > 0.0 => Ok(factor),
        _ => Err(format!("{text:?} is not a number greater than 0")),
    }
}

impl Common {
    fn sandbox(&self) -> anyhow::Result<Sandbox> {
        let cache = if self.no_cache { None } else { self.cache_dir.clone().or_else(CompileCache::default_dir) };
        Sandbox::new(cache.map(CompileCache::new))
    }
}

/// The first Ctrl-C or SIGTERM asks the run to stop: the running test ends, its nodes
/// get SIGTERM and their grace period. The second kills every node's process group at
/// once and exits.
fn watch_signals() -> std::io::Result<tokio::sync::watch::Receiver<bool>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        for count in 1.. {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if count == 1 {
                eprintln!("\ninterrupted: stopping the nodes (signal again to kill them now)");
                let _ = cancel.send(true);
            } else {
                let killed = host::nodes::groups::kill_all();
                eprintln!("interrupted again: killed {killed} process group(s)");
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
        }
    });
    Ok(cancelled)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Watchdog = cli.command {
        host::nodes::groups::watchdog_main(std::io::stdin().lock());
        return ExitCode::SUCCESS;
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
            Command::Check(args) => check(&args.path),
            Command::List(args) => list(&args).await,
            Command::Run(args) => run(&args).await,
            Command::Watchdog => unreachable!("handled before the runtime starts"),
        }
    });
    ExitCode::from(code)
}

fn load(path: &std::path::Path) -> Result<config::Plan, u8> {
    config::load(path).map_err(|error: ConfigError| {
        eprintln!("error: {error}");
        exit::USAGE
    })
}

fn check(path: &std::path::Path) -> u8 {
    let plan = match load(path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let packages: usize = plan.tests.iter().map(|t| t.test_packages.len() + t.setup_packages.len()).sum();
    let nodes: usize = plan.tests.iter().map(|t| t.nodes.len()).sum();
    println!("{}: ok ({} test(s), {packages} package(s), {nodes} node(s))", plan.file.display(), plan.tests.len());
    exit::PASSED
}

async fn list(args: &Common) -> u8 {
    let plan = match load(&args.path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let result = async {
        let sandbox = args.sandbox()?;
        // Build progress goes to stderr so stdout is only the list.
        let bus = EventBus::new();
        bus.subscribe(TerminalReporter::new(std::io::stderr()));
        let prepared = runner::prepare(&plan, &sandbox, &bus, false).await?;
        for test in &plan.tests {
            println!("{}", test.name);
            let packages = test.setup_packages.iter().map(|s| &s.package).chain(&test.test_packages);
            for package in packages {
                let loaded = prepared.package(package);
                println!("{}/{}", test.name, loaded.name);
                for case in &loaded.cases {
                    println!("{}/{}/{case}", test.name, loaded.name);
                }
            }
        }
        anyhow::Ok(())
    };
    match result.await {
        Ok(()) => exit::PASSED,
        Err(error) => {
            eprintln!("error: {error:#}");
            exit::USAGE
        }
    }
}

async fn run(args: &Common) -> u8 {
    let mut plan = match load(&args.path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if let Some(factor) = args.timeout_scale {
        plan.scale_timeouts(factor);
    }
    let sandbox = match args.sandbox() {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("error: {error:#}");
            return exit::USAGE;
        }
    };
    // Without a watchdog, a SIGKILLed host still takes its nodes down (parent-death
    // signal), but not what they started: worth a warning, not a refusal to run.
    let bus = EventBus::new();
    bus.subscribe(TerminalReporter::new(std::io::stdout()));
    let watchdog = std::env::current_exe().and_then(|exe| host::nodes::groups::start_watchdog(&exe, &["__watchdog"]));
    if let Err(error) = watchdog {
        bus.emit(host::events::Event::Warning { message: format!("cannot start the watchdog process: {error}") });
    }
    let cancel = match watch_signals() {
        Ok(cancel) => cancel,
        Err(error) => {
            eprintln!("error: cannot watch for signals: {error}");
            return exit::USAGE;
        }
    };
    match runner::run(&plan, &sandbox, &bus, cancel).await {
        Ok(result) if result.interrupted => exit::INTERRUPTED,
        Ok(result) if result.totals.failed == 0 => exit::PASSED,
        Ok(_) => exit::FAILED,
        Err(error) => {
            eprintln!("error: {error:#}");
            exit::USAGE
        }
    }
}
