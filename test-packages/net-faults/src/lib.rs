//! Network faults measured on real TCP exchanges with kvnode (tests.toml:
//! `network_faults = true`): the package talks to node `a` through the host's proxy and
//! checks what each fault does to the bytes. Every bound is a lower bound (a fault can
//! only make things slower, never faster), so a loaded machine cannot make a case fail.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use guest_sdk::network::{self, Fault};
use guest_sdk::{Context, Failure, TestResult, ensure, ensure_eq, info, node, test_package};

test_package!(
    latency_adds_to_every_round_trip,
    bandwidth_paces_a_transfer,
    reset_ends_open_and_new_connections,
    slicer_delivers_in_small_writes,
    close_after_bytes_ends_the_connection,
    dropped_new_connections_leave_open_ones,
    a_cut_holds_bytes_until_healed,
    faults_on_unknown_nodes_are_error_values,
);

/// A line-protocol connection to kvnode `name` (through its proxy).
fn connect(name: &str) -> Result<TcpStream, Failure> {
    let address = node(name).info()?.address;
    let stream = TcpStream::connect(&address).map_err(|e| Failure::here(format!("connect {address}: {e}")))?;
    stream.set_nodelay(true).ok();
    Ok(stream)
}

/// Send `request` and read one reply line; returns the line and how many reads it took.
fn exchange(stream: &mut TcpStream, request: &str) -> std::io::Result<(String, usize)> {
    stream.write_all(format!("{request}\n").as_bytes())?;
    let mut reply = Vec::new();
    let mut reads = 0;
    let mut buffer = [0u8; 65536];
    while !reply.ends_with(b"\n") {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Err(std::io::Error::new(ErrorKind::UnexpectedEof, format!("closed after {} bytes", reply.len())));
        }
        reads += 1;
        reply.extend_from_slice(&buffer[..n]);
    }
    Ok((String::from_utf8_lossy(&reply).trim_end().to_string(), reads))
}

fn io(e: std::io::Error) -> Failure {
    Failure::here(e.to_string())
}

fn latency_adds_to_every_round_trip(_ctx: &Context) -> TestResult {
    network::heal()?;
    let mut stream = connect("a")?;
    ensure_eq!(exchange(&mut stream, "PING").map_err(io)?.0, "PONG");
    // 100 ms each way on every connection to a, this open one included.
    network::node("a").fault(Fault::Latency { ms: 100, jitter_ms: 20 })?;
    for _ in 0..3 {
        let started = Instant::now();
        ensure_eq!(exchange(&mut stream, "PING").map_err(io)?.0, "PONG");
        let rtt = started.elapsed();
        info!("round trip with 100 ± 20 ms each way: {rtt:?}");
        ensure!(rtt >= Duration::from_millis(160), "a round trip took {rtt:?}, less than 2 × (100 - 20) ms");
    }
    network::heal()?;
    Ok(())
}

fn bandwidth_paces_a_transfer(_ctx: &Context) -> TestResult {
    network::heal()?;
    let mut stream = connect("a")?;
    let value = "x".repeat(48 * 1024);
    ensure_eq!(exchange(&mut stream, &format!("SET big {value}")).map_err(io)?.0, "OK");
    let rate = 96 * 1024;
    network::node("a").downstream().fault(Fault::Bandwidth(rate))?;
    let started = Instant::now();
    let (reply, reads) = exchange(&mut stream, "GET big").map_err(io)?;
    let took = started.elapsed();
    ensure_eq!(reply.len(), "VALUE ".len() + value.len());
    let least = Duration::from_secs_f64(value.len() as f64 / rate as f64);
    info!("{} bytes at {rate} bytes/s: {took:?} in {reads} reads (at least {least:?})", reply.len() + 1);
    ensure!(took >= least, "{} bytes took {took:?}, less than {least:?} at {rate} bytes/s", reply.len());
    network::heal()?;
    Ok(())
}

fn reset_ends_open_and_new_connections(_ctx: &Context) -> TestResult {
    network::heal()?;
    let mut open = connect("a")?;
    ensure_eq!(exchange(&mut open, "PING").map_err(io)?.0, "PONG");
    network::node("a").fault(Fault::Reset)?;
    let error = exchange(&mut open, "PING").err().ok_or_else(|| Failure::here("the open connection still answers after a reset"))?;
    info!("open connection: {error} ({:?})", error.kind());
    // Not a clean close (that would read as end of file): the connection failed. WASI
    // reports a reset as a plain I/O error; host/tests/network_faults.rs checks natively
    // that it is ECONNRESET.
    ensure!(error.kind() != ErrorKind::UnexpectedEof, "the open connection was closed, not reset: {error}");
    // A new connection is reset as soon as the proxy accepts it. The reset may arrive
    // before the connect has finished (the socket's pending error is then the connect's
    // result) or after (the first exchange fails): both are the fault working.
    let address = node("a").info()?.address;
    let error = match TcpStream::connect(&address) {
        Err(error) => {
            ensure!(error.kind() == ErrorKind::ConnectionReset, "connect {address} failed, but not with a reset: {error}");
            error
        }
        Ok(mut new) => exchange(&mut new, "PING").err().ok_or_else(|| Failure::here("a new connection answers while reset is armed"))?,
    };
    info!("new connection: {error} ({:?})", error.kind());
    ensure!(error.kind() != ErrorKind::UnexpectedEof, "the new connection was closed, not reset: {error}");
    network::node("a").clear()?;
    ensure_eq!(exchange(&mut connect("a")?, "PING").map_err(io)?.0, "PONG", "once cleared");
    Ok(())
}

fn slicer_delivers_in_small_writes(_ctx: &Context) -> TestResult {
    network::heal()?;
    let mut stream = connect("a")?;
    let value = "y".repeat(3000);
    ensure_eq!(exchange(&mut stream, &format!("SET sliced {value}")).map_err(io)?.0, "OK");
    network::node("a").downstream().fault(Fault::Slicer { average: 100, variation: 50, delay_us: 10_000 })?;
    let (reply, reads) = exchange(&mut stream, "GET sliced").map_err(io)?;
    ensure_eq!(reply.len(), "VALUE ".len() + value.len());
    info!("{} bytes sliced into pieces of 100 ± 50 bytes, 10 ms apart: {reads} reads", reply.len() + 1);
    // At most 150 bytes a piece: at least 20 pieces; a busy reader may get two at once.
    ensure!(reads >= 10, "the reply came in {reads} reads");
    network::heal()?;
    Ok(())
}

fn close_after_bytes_ends_the_connection(_ctx: &Context) -> TestResult {
    network::heal()?;
    network::node("a").downstream().fault(Fault::CloseAfterBytes(7))?;
    let mut stream = connect("a")?;
    // "PONG\n" is 5 bytes: the first reply passes, the second is cut after 2 bytes.
    ensure_eq!(exchange(&mut stream, "PING").map_err(io)?.0, "PONG");
    let error = exchange(&mut stream, "PING").err().ok_or_else(|| Failure::here("a second reply got through"))?;
    ensure_eq!(error.kind(), ErrorKind::UnexpectedEof, "{error}");
    ensure!(error.to_string().contains("after 2 bytes"), "{error}");
    network::heal()?;
    Ok(())
}

fn dropped_new_connections_leave_open_ones(_ctx: &Context) -> TestResult {
    network::heal()?;
    let mut open = connect("a")?;
    ensure_eq!(exchange(&mut open, "PING").map_err(io)?.0, "PONG");
    network::node("a").fault(Fault::DropNewConnections)?;
    let refused = connect("a").and_then(|mut new| exchange(&mut new, "PING").map_err(io));
    ensure!(refused.is_err(), "a new connection answered: {refused:?}");
    ensure_eq!(exchange(&mut open, "PING").map_err(io)?.0, "PONG", "the open connection");
    network::heal()?;
    Ok(())
}

fn a_cut_holds_bytes_until_healed(ctx: &Context) -> TestResult {
    network::heal()?;
    // kvnode replicates a SET to its peers before answering OK: with a → b cut, a's
    // replication to b is held, so the SET does not answer until the link heals.
    network::cut("a", "b")?;
    let mut stream = connect("a")?;
    stream.write_all(b"SET held yes\n").map_err(io)?;
    ctx.sleep(Duration::from_millis(500));
    let read_b = exchange(&mut connect("b")?, "GET held").map_err(io)?.0;
    ensure_eq!(read_b, "NOTFOUND", "b got the write across a cut link");
    network::heal_link("a", "b")?;
    let mut reply = [0u8; 16];
    let n = stream.read(&mut reply).map_err(io)?;
    ensure_eq!(String::from_utf8_lossy(&reply[..n]).trim_end(), "OK", "the SET after the heal");
    ensure_eq!(exchange(&mut connect("b")?, "GET held").map_err(io)?.0, "VALUE yes");
    Ok(())
}

fn faults_on_unknown_nodes_are_error_values(_ctx: &Context) -> TestResult {
    let error = network::isolate("nobody").err().ok_or_else(|| Failure::here("isolating an unknown node succeeded"))?;
    ensure!(matches!(error, network::NetworkError::UnknownNode(_)), "{error:?}");
    let error = network::node("a").fault(Fault::Bandwidth(0)).err().ok_or_else(|| Failure::here("a bandwidth of 0 was taken"))?;
    ensure!(matches!(error, network::NetworkError::Invalid(_)), "{error:?}");
    Ok(())
}
