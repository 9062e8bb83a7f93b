//! Free TCP ports for nodes whose tests.toml leaves `port` out (or sets it to 0).

use std::net::TcpListener;

/// A port on `host` that nothing listens on right now. The kernel picks it from the
/// ephemeral range, so two runs at the same time get different ports.
pub fn free_port(host: &str) -> std::io::Result<u16> {
    Ok(TcpListener::bind((host, 0))?.local_addr()?.port())
}
