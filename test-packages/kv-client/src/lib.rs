//! A client for `kvnode`'s line protocol (`SET`, `GET`, `PING`), used by test packages.
//! Inside the sandbox `std::net::TcpStream` goes through `wasi:sockets`, which the host
//! allows only to the test's own nodes.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;

/// One connection to one node.
pub struct KvClient {
    // One stream for both directions: `TcpStream::try_clone` is not available on WASI.
    stream: BufReader<TcpStream>,
}

impl KvClient {
    /// Connect to `address` (`host:port`).
    pub fn connect(address: &str) -> io::Result<KvClient> {
        Ok(KvClient { stream: BufReader::new(TcpStream::connect(address)?) })
    }

    /// Store `value` under `key` (replicated to the node's peers before it answers).
    pub fn set(&mut self, key: &str, value: &str) -> io::Result<()> {
        match self.request(&format!("SET {key} {value}"))?.as_str() {
            "OK" => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// The value of `key`, or `None` when the node does not have it.
    pub fn get(&mut self, key: &str) -> io::Result<Option<String>> {
        let reply = self.request(&format!("GET {key}"))?;
        if reply == "NOTFOUND" {
            return Ok(None);
        }
        match reply.strip_prefix("VALUE ") {
            Some(value) => Ok(Some(value.to_string())),
            None => Err(unexpected(&reply)),
        }
    }

    /// Check the node answers.
    pub fn ping(&mut self) -> io::Result<()> {
        match self.request("PING")?.as_str() {
            "PONG" => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn request(&mut self, line: &str) -> io::Result<String> {
        self.stream.get_mut().write_all(format!("{line}\n").as_bytes())?;
        let mut reply = String::new();
        if self.stream.read_line(&mut reply)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "node closed the connection"));
        }
        Ok(reply.trim_end().to_string())
    }
}

fn unexpected(reply: &str) -> io::Error {
    io::Error::other(format!("unexpected reply {reply:?}"))
}
