//! A minimal RESP2 client over `std::net::TcpStream` (wasi:sockets in the sandbox).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// What went wrong talking to Redis.
#[derive(Debug)]
pub struct Error(pub String);

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error(format!("redis connection: {error}"))
    }
}

/// A reply, as RESP2 has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<String>),
    Array(Option<Vec<Reply>>),
}

/// One connection.
pub struct Resp {
    stream: BufReader<TcpStream>,
}

impl Resp {
    pub fn connect(address: &str) -> Result<Resp, Error> {
        Ok(Resp { stream: BufReader::new(TcpStream::connect(address)?) })
    }

    /// Send a command and read its reply.
    pub fn call(&mut self, args: &[&str]) -> Result<Reply, Error> {
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        self.stream.get_mut().write_all(request.as_bytes())?;
        self.reply()
    }

    fn line(&mut self) -> Result<String, Error> {
        let mut line = String::new();
        if self.stream.read_line(&mut line)? == 0 {
            return Err(Error("redis closed the connection".into()));
        }
        Ok(line.trim_end_matches("\r\n").to_string())
    }

    fn reply(&mut self) -> Result<Reply, Error> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1.min(line.len()));
        let number = || rest.parse::<i64>().map_err(|e| Error(format!("bad length {rest:?}: {e}")));
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Integer(number()?),
            "$" => match number()? {
                -1 => Reply::Bulk(None),
                len => {
                    let mut data = vec![0; len as usize + 2];
                    self.stream.read_exact(&mut data)?;
                    data.truncate(len as usize);
                    Reply::Bulk(Some(String::from_utf8_lossy(&data).into_owned()))
                }
            },
            "*" => match number()? {
                -1 => Reply::Array(None),
                len => Reply::Array(Some((0..len).map(|_| self.reply()).collect::<Result<_, _>>()?)),
            },
            _ => return Err(Error(format!("unexpected reply line {line:?}"))),
        })
    }
}
