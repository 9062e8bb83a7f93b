//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run WebAssembly test packages against real native nodes.
///
/// host reads a tests.toml (Kinode kit's format, extended for any daemon), boots the
/// nodes each test needs as supervised native processes, and runs each test package —
/// a WebAssembly component of the `tester` world in wit/ — in a sandbox that can reach
/// only those nodes.
#[derive(Debug, Parser)]
#[command(name = "host", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum Command {
    /// Build the packages, boot the nodes and run the selected tests.
    ///
    /// Exit status: 0 everything selected passed, 1 something failed, 2 bad arguments,
    /// a bad tests.toml, a package that cannot be built or loaded, or an archive that
    /// cannot be read or verified, 3 nothing selected,
    /// 130 interrupted (Ctrl-C, SIGTERM).
    Run(RunArgs),
    /// Print the selected tests, packages and cases, one per line (`test`,
    /// `test/package`, `test/package/case`, `test/script:NAME`), without booting nodes.
    List(ListArgs),
    /// Validate tests.toml (keys, values, paths) without building or running anything.
    Check(CheckArgs),
    /// Build and compile the whole suite and write it to one file that `host run
    /// --archive FILE` runs on another machine without toolchains or compiling.
    ///
    /// The archive (tar + zstd) holds the components compiled for this host's engine,
    /// their case lists, the node executables built from `RepoPath`, tests.toml with its
    /// paths rewritten and every file of the suite it names, and a manifest with the
    /// SHA-256 of every file. Exit status: 0 written, 2 bad tests.toml, a package that
    /// cannot be built or loaded, or a file that cannot be written.
    Archive(ArchiveArgs),
    /// Internal: kill the process groups a dead host leaves behind.
    #[command(name = "__watchdog", hide = true)]
    Watchdog,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A tests.toml, or a directory holding one.
    #[arg(default_value = "tests.toml")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The archive to write (conventionally NAME.tar.zst); replaced if it exists.
    pub out: PathBuf,
    /// A tests.toml, or a directory holding one.
    #[arg(default_value = "tests.toml")]
    pub path: PathBuf,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Print a line for each build and component compile.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// The compile cache of `run`, `list` and `archive`.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Where compiled components are cached between runs [default: $HOST_CACHE_DIR,
    /// else $XDG_CACHE_HOME/host, else ~/.cache/host].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile every component afresh and do not write the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

/// What `run` and `list` share: the suite, its selection and the compile cache.
#[derive(Debug, Clone, Args)]
pub struct SuiteArgs {
    /// A tests.toml, or a directory holding one [default: tests.toml]. With `--archive`,
    /// a filter like the ones after it.
    pub path: Option<PathBuf>,
    /// Name filters after PATH, like --filter.
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Select items whose id (`test/package/case`, `test/script:NAME`) contains TEXT, or
    /// matches it as a glob when it has `*`, `?` or `[`; `tag:NAME` selects the tests
    /// tagged NAME; a leading `!` excludes. Repeatable.
    #[arg(long = "filter", short = 'F', value_name = "TEXT")]
    pub more_filters: Vec<String>,
    /// Run only shard K of N: `hash:K/N` (by id hash), `slice:K/N` (round robin),
    /// `duration:K/N` (whole tests balanced by the durations of --from-record), or
    /// `SCHEME:ci` to read CI_NODE_INDEX/CI_NODE_TOTAL (GitLab),
    /// CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL (CircleCI) or
    /// JOB_COMPLETION_INDEX/HOST_PARTITION_TOTAL (Kubernetes).
    #[arg(long, value_name = "SCHEME:K/N")]
    pub partition: Option<String>,
    /// The durations `--partition duration:K/N` balances: a record written by
    /// `host run --record`, or a JUnit report (`--junit`); selected tests it does not know
    /// count as the median of the selected tests it does.
    #[arg(long, value_name = "FILE")]
    pub from_record: Option<PathBuf>,
    /// Only the items that failed or did not run in the last run of this suite
    /// (remembered in .host/last-run.json beside tests.toml), within the other filters.
    #[arg(long)]
    pub rerun_failed: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Print a line for each build, component compile and node boot, with why and how
    /// long, also when stderr is not a terminal (where no live progress line is drawn).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Set by `--archive`: the engine the archive's components were compiled for.
    #[arg(skip)]
    pub archive_engine: Option<String>,
    /// Set by `--archive`: each component's cases, as the archive recorded them.
    #[arg(skip)]
    pub listed: host::runner::Listed,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
    /// Run the suite of an archive written by `host archive`, as it was built there:
    /// nothing is built or compiled. Every positional argument is then a filter.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cache_dir", "no_cache"])]
    pub archive: Option<PathBuf>,
    /// Extract --archive into DIR: a missing DIR is created and removed after the run, an
    /// existing one (empty, or holding an earlier extraction) is kept [default: a new
    /// temporary directory, removed after the run].
    #[arg(long, value_name = "DIR", requires = "archive")]
    pub workdir: Option<PathBuf>,
    /// Run up to N tests at once, each with its own nodes and ports.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Run a failed case up to N more times; one that then passes is reported flaky.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Run the whole selection N times, to hunt flaky tests.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// With `--repeat N`: stop after the first round in which a case failed (`fail`,
    /// Common Test's repeat-until-any-fail) or the first in which none failed (`pass`). The
    /// exit code still counts every round's failures.
    #[arg(long, value_enum, value_name = "fail|pass", requires = "repeat")]
    pub until: Option<Until>,
    /// Start nothing new after the first failure.
    #[arg(long, conflicts_with = "keep_going")]
    pub fail_fast: bool,
    /// Run a test's later packages even after one failed (kit skips them; so does host by default).
    #[arg(long)]
    pub keep_going: bool,
    /// After the first failing test has run, keep its nodes running and print how to reach
    /// them, until Enter (stdin must be a terminal) or `--continue-file`; then tear down.
    #[arg(long)]
    pub break_on_failure: bool,
    /// End a break (`--break-on-failure`, or a case's `break-here`) when FILE exists, as
    /// well as at Enter: for non-interactive use. A break starting while FILE exists ends at
    /// once; the host never removes it. Without it and without a terminal on stdin, breaks
    /// that cases ask for are skipped.
    #[arg(long, value_name = "FILE")]
    pub continue_file: Option<std::path::PathBuf>,
    /// Show the last N lines of each node's output with a failed test (the HTML report
    /// links every node's whole log).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub log_lines: usize,
    /// Multiply every timeout (timeout_secs, case_timeout_secs, boot timeouts) by FACTOR,
    /// for slow machines (greater than 0, at most 1000); packages read it through the
    /// `timing` interface.
    #[arg(long, env = "HOST_TIMEOUT_SCALE", value_name = "FACTOR", value_parser = parse_scale)]
    pub timeout_scale: Option<f64>,
    /// What goes to stdout: `human` (progress and results) or `json` (one JSON object per
    /// event per line; see the README for the schema).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write how long each test (node boot and teardown included) and each case took
    /// to FILE (JSON), for `--partition duration:K/N --from-record FILE`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also write a static HTML report (index.html) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Colours in human output: `auto` (when stdout is a terminal and NO_COLOR is unset),
    /// `always` or `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Install an event handler (repeatable): a handler component (`.wasm` file or package
    /// directory) with `init` arguments after `=`, comma-separated; or `cmd:COMMAND`, a
    /// command that reads the `--format json` lines on its stdin. Added to tests.toml's
    /// `[[event_handlers]]`.
    #[arg(long = "event-handler", value_name = "PATH[=ARGS]|cmd:COMMAND")]
    pub event_handlers: Vec<String>,
}

/// When `--repeat` stops early (`--until`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// After the first round in which a case failed.
    Fail,
    /// After the first round in which no case failed.
    Pass,
}

/// The stdout format of `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The largest `--timeout-scale`: every timeout stays representable (timeouts are at
/// most 10^9 s), and a factor beyond this is a typo rather than a slow machine.
pub const MAX_TIMEOUT_SCALE: f64 = 1000.0;

fn parse_scale(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(factor) if factor.is_finite() && factor > 0.0 && factor <= MAX_TIMEOUT_SCALE => Ok(factor),
        _ => Err(format!("{text:?} is not a number greater than 0 and at most {MAX_TIMEOUT_SCALE}")),
    }
}
