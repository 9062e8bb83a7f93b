"""TCP connections to the test's nodes, over `wasi:sockets`.

CPython for WASI has no `socket` module, so this module speaks WASI 0.2's TCP interfaces
directly. It needs the SDK's `net` world merged into the build (see the SDK README):

    componentize-py -d {wit} -d ../../guest-sdk/python/wit \\
        -w host:test/tester@0.1.0 -w host:python-sdk/net@0.1.0 componentize app …

    from host_test import net
    with net.connect(ctx.node().address) as conn:
        assert conn.request("PING") == "PONG"

The sandbox lets a package reach only its test's nodes: any other address fails with
`ConnectionError` (`access-denied`) and the case output says `[SANDBOX] refused …`.
Errors are Python's own: `ConnectionError` (refused, reset, closed), `TimeoutError`.
"""

from __future__ import annotations

import ipaddress
from typing import Optional

from componentize_py_types import Err
from wit_world.imports import instance_network as _instance_network
from wit_world.imports import monotonic_clock as _clock
from wit_world.imports import network as _network
from wit_world.imports import poll as _poll
from wit_world.imports import streams as _streams
from wit_world.imports import tcp_create_socket as _tcp_create_socket

#: Largest chunk written at once (`check-write` may allow less; writes go in chunks).
_WRITE_CHUNK = 4096
_READ_CHUNK = 65536


def _code(error: Err) -> str:
    value = error.value
    return value.name.lower().replace("_", "-") if hasattr(value, "name") else str(value)


def _socket_address(address: str) -> _network.IpSocketAddress:
    """`127.0.0.1:7000` or `[::1]:7000` → a WASI socket address (no name lookup: the
    sandbox has none; node addresses are IPs)."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"address {address!r}: expected HOST:PORT")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"address {address!r}: {host!r} is not an IP address (the sandbox has no name lookup)") from None
    port = int(port_text)
    if isinstance(ip, ipaddress.IPv4Address):
        return _network.IpSocketAddress_Ipv4(_network.Ipv4SocketAddress(port=port, address=tuple(ip.packed)))
    words = tuple(int.from_bytes(ip.packed[i:i + 2], "big") for i in range(0, 16, 2))
    return _network.IpSocketAddress_Ipv6(_network.Ipv6SocketAddress(port=port, flow_info=0, address=words, scope_id=0))


def _wait(pollable: _poll.Pollable, timeout: Optional[float], what: str) -> None:
    """Block until `pollable` is ready, or raise `TimeoutError` after `timeout` seconds."""
    if timeout is None:
        pollable.block()
        return
    with _clock.subscribe_duration(max(0, int(timeout * 1e9))) as timer:
        ready = _poll.poll([pollable, timer])
    if 0 not in ready:
        raise TimeoutError(f"{what}: no answer within {timeout:g}s")


class Connection:
    """A connected TCP stream. Use it as a context manager, or `close()` it."""

    def __init__(self, address: str, socket, input_stream, output_stream, timeout: Optional[float]):
        self.address = address
        #: Default timeout of reads, in seconds (`None`: wait until the case's deadline).
        self.timeout = timeout
        self._socket = socket
        self._input = input_stream
        self._output = output_stream
        self._buffer = b""

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the streams first, then the socket, as WASI requires)."""
        for name in ("_input", "_output", "_socket"):
            resource = getattr(self, name)
            if resource is not None:
                setattr(self, name, None)
                resource.__exit__(None, None, None)

    def _streams(self):
        if self._socket is None:
            raise ConnectionError(f"connection to {self.address} is closed")
        return self._input, self._output

    def send(self, data) -> None:
        """Write all of `data` (bytes, or text sent as UTF-8) and flush it."""
        _, output = self._streams()
        if isinstance(data, str):
            data = data.encode()
        try:
            for offset in range(0, len(data), _WRITE_CHUNK):
                output.blocking_write_and_flush(data[offset:offset + _WRITE_CHUNK])
        except Err as error:
            raise ConnectionError(f"write to {self.address} failed: {_stream_error(error)}") from None

    def recv(self, max: int = _READ_CHUNK, timeout: Optional[float] = ...) -> bytes:
        """Up to `max` bytes, waiting for at least one; `b""` once the peer closed."""
        if self._buffer:
            data, self._buffer = self._buffer[:max], self._buffer[max:]
            return data
        return self._read(max, self.timeout if timeout is ... else timeout)

    def _read(self, max: int, timeout: Optional[float]) -> bytes:
        input_stream, _ = self._streams()
        while True:
            try:
                data = input_stream.read(max)
            except Err as error:
                if isinstance(error.value, _streams.StreamError_Closed):
                    return b""
                raise ConnectionError(f"read from {self.address} failed: {_stream_error(error)}") from None
            if data:
                return data
            with input_stream.subscribe() as ready:
                _wait(ready, timeout, f"reading from {self.address}")

    def read_line(self, timeout: Optional[float] = ...) -> str:
        """The next line, without its line ending; `ConnectionError` if the peer closes first."""
        timeout = self.timeout if timeout is ... else timeout
        while b"\n" not in self._buffer:
            data = self._read(_READ_CHUNK, timeout)
            if not data:
                raise ConnectionError(f"{self.address} closed the connection (after {self._buffer!r})")
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode()

    def request(self, line: str, timeout: Optional[float] = ...) -> str:
        """Send `line` and a newline, then read the answer line: a line protocol's round trip."""
        self.send(line + "\n")
        return self.read_line(timeout)


def _stream_error(error: Err) -> str:
    value = error.value
    if isinstance(value, _streams.StreamError_Closed):
        return "closed"
    inner = getattr(value, "value", None)
    if inner is not None and hasattr(inner, "to_debug_string"):
        return inner.to_debug_string()
    return str(value)


def connect(address: str, timeout: Optional[float] = 10.0) -> Connection:
    """Open a TCP connection to `address` (`host:port`, e.g. a node's `address`).
    `timeout` bounds the connect and is the connection's default read timeout
    (`None`: wait as long as the case may)."""
    remote = _socket_address(address)
    family = _network.IpAddressFamily.IPV4 if isinstance(remote, _network.IpSocketAddress_Ipv4) else _network.IpAddressFamily.IPV6
    try:
        socket = _tcp_create_socket.create_tcp_socket(family)
    except Err as error:
        raise ConnectionError(f"connect to {address}: cannot create a socket: {_code(error)}") from None
    try:
        with _instance_network.instance_network() as network:
            socket.start_connect(network, remote)
            while True:
                try:
                    input_stream, output_stream = socket.finish_connect()
                    break
                except Err as error:
                    if _code(error) != "would-block":
                        raise
                with socket.subscribe() as ready:
                    _wait(ready, timeout, f"connecting to {address}")
    except Err as error:
        socket.__exit__(None, None, None)
        raise ConnectionError(f"connect to {address} failed: {_code(error)}") from None
    except BaseException:
        socket.__exit__(None, None, None)
        raise
    return Connection(address, socket, input_stream, output_stream, timeout)
