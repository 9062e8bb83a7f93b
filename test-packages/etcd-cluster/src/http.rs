//! Just enough HTTP/1.1 to talk to etcd's JSON gateway (`POST /v3/...`) over
//! `std::net::TcpStream` — wasi:sockets in the sandbox, allowed only to the test's nodes.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

/// A request that failed, in words.
#[derive(Debug)]
pub struct Error(pub String);

/// POST `body` as JSON to `http://{address}{path}` and parse the JSON answer; a status
/// other than 200 is an error that carries etcd's message.
pub fn post(address: &str, path: &str, body: &Value) -> Result<Value, Error> {
    let body = body.to_string();
    let mut stream = TcpStream::connect(address).map_err(|e| Error(format!("connect {address}: {e}")))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| Error(format!("send to {address}: {e}")))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| Error(format!("read from {address}: {e}")))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").ok_or_else(|| Error(format!("{address}{path}: no HTTP header in {answer:?}")))?;
    let status = head.split(' ').nth(1).unwrap_or("");
    let chunked = head.lines().any(|line| line.to_ascii_lowercase().starts_with("transfer-encoding:") && line.to_ascii_lowercase().contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    if status != "200" {
        return Err(Error(format!("{address}{path}: HTTP {status}: {body}")));
    }
    serde_json::from_str(&body).map_err(|e| Error(format!("{address}{path}: not JSON ({e}): {body}")))
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}
