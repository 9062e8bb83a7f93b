//! Command-line arguments of `kvnode`.

use std::path::PathBuf;

/// Printed with every argument error.
pub const USAGE: &str = "usage: kvnode --name NAME --home DIR [--port PORT] [--host ADDR] \
[--events PATH] [--peers ADDR,ADDR,...] [--verbosity N]";

/// Parsed command line.
#[derive(Debug)]
pub struct Args {
    pub name: String,
    pub home: PathBuf,
    pub host: String,
    pub port: u16,
    /// Event pipe (FIFO or file) to write JSON events to.
    pub events: Option<PathBuf>,
    /// `host:port` of every peer that writes are replicated to.
    pub peers: Vec<String>,
    pub verbosity: u32,
}

impl Args {
    /// Parse `--flag value` pairs.
    pub fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
        let (mut name, mut home, mut events) = (None, None, None);
        let (mut host, mut port, mut peers, mut verbosity) =
            ("127.0.0.1".to_string(), 0u16, Vec::new(), 0u32);
        while let Some(flag) = argv.next() {
            let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--name" => name = Some(value),
                "--home" => home = Some(PathBuf::from(value)),
                "--host" => host = value,
                "--port" => port = value.parse().map_err(|e| format!("--port {value}: {e}"))?,
                "--events" => events = Some(PathBuf::from(value)),
                "--peers" => {
                    peers = value.split(',').filter(|p| !p.is_empty()).map(String::from).collect()
                }
                "--verbosity" => {
                    verbosity = value.parse().map_err(|e| format!("--verbosity {value}: {e}"))?
                }
                other => return Err(format!("unknown flag {other}")),
            }
        }
        Ok(Args {
            name: name.ok_or("--name is required")?,
            home: home.ok_or("--home is required")?,
            host,
            port,
            events,
            peers,
            verbosity,
        })
    }
}
