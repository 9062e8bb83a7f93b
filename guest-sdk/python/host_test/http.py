"""HTTP/1.1 for packages, over `host_test.net` (CPython in the component has no `socket`
module, so no `http.client`): enough to drive a node's JSON API, such as etcd's gateway.
The sandbox lets it reach the test's nodes only, like every connection.

    from host_test.http import post_json
    answer = post_json(node("e1").address_of("client"), "/v3/kv/range", {"key": "Zm9v"})
"""

import json

from . import net


class HttpError(Exception):
    """A request answered with another status than 200, or with a body that is not JSON."""


def request(address: str, method: str, path: str, body: bytes = b"", headers=None, timeout: float = 10.0):
    """Send one request to `http://{address}{path}` (`Connection: close`) and return
    `(status, headers, body)`: the status code as an int, header names lower-cased, and
    the body as bytes (chunked bodies decoded)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {address}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    answer = b""
    with net.connect(address, timeout) as conn:
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while True:
            data = conn.recv()
            if not data:
                break
            answer += data
    header, separator, content = answer.partition(b"\r\n\r\n")
    if not separator:
        raise HttpError(f"{address}{path}: no HTTP header in {answer[:200]!r}")
    head = header.decode("latin-1").split("\r\n")
    parts = head[0].split(" ")
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:])}
    if "chunked" in fields.get("transfer-encoding", "").lower():
        content = _dechunk(content)
    return status, fields, content


def post_json(address: str, path: str, body, timeout: float = 10.0):
    """POST `body` as JSON to `http://{address}{path}` and return the parsed JSON answer;
    a status other than 200 raises `HttpError` with the server's message."""
    status, _, content = request(
        address, "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"}, timeout
    )
    text = content.decode(errors="replace")
    if status != 200:
        raise HttpError(f"{address}{path}: HTTP {status}: {text}")
    try:
        return json.loads(text)
    except ValueError as error:
        raise HttpError(f"{address}{path}: not JSON ({error}): {text}") from None


def _dechunk(rest: bytes) -> bytes:
    """The body of a `Transfer-Encoding: chunked` answer."""
    body = b""
    while True:
        size_line, separator, rest = rest.partition(b"\r\n")
        if not separator:
            break
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            break
        if size == 0 or len(rest) < size:
            break
        body += rest[:size]
        rest = rest[size:].removeprefix(b"\r\n")
    return body
