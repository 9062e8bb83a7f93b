"""Network faults between the test's nodes (tests.toml: `network_faults = true`).

Every port of every node sits behind a TCP proxy of the host; these calls cut,
partition, slow down and reset the links. The host heals everything at the test's end,
and each call is an event on the run's timeline. A call the host refuses raises
`NetworkError` (`kind`: `unknown-node`, `invalid`, `unavailable`).

    from host_test import network

    network.isolate("e1")                        # e1 reaches no node, no node reaches e1
    network.partition([["e1"], ["e2", "e3"]])
    network.cut("e1", "e2")                      # one way: e2 still reaches e1
    network.heal()
    network.faults("e2").latency(50, jitter_ms=10)           # every client of e2
    network.faults("e2", peer="e1", direction="upstream").bandwidth(64 * 1024)
"""

from __future__ import annotations

from typing import Any, List, Optional

from wit_world.imports import network_faults as _network

from ._wit import HostError, call


class NetworkError(HostError):
    """A network call the host refused: `kind` says why, `detail` says more."""


def _call(function, *args):
    return call(NetworkError, function, *args)


def partition(groups: List[List[str]]) -> None:
    """Nodes in different groups cannot reach each other; a node in no group is alone."""
    _call(_network.partition, [list(group) for group in groups])


def isolate(node: str) -> None:
    """`node` reaches no other node, and no node reaches it."""
    _call(_network.isolate, node)


def cut(from_node: str, to_node: str) -> None:
    """Bytes from `from_node` to `to_node` are held (one way)."""
    _call(_network.cut, from_node, to_node)


def heal() -> None:
    """Every cut and every fault is gone."""
    _call(_network.heal)


def heal_link(from_node: str, to_node: str) -> None:
    """Bytes from `from_node` to `to_node` flow again, and that link's faults are gone."""
    _call(_network.heal_link, from_node, to_node)


_DIRECTIONS = {"upstream": _network.Direction.UPSTREAM, "downstream": _network.Direction.DOWNSTREAM, "both": _network.Direction.BOTH}


class Faults:
    """Faults on the connections to `node`'s ports from `peer` (None: from anyone,
    packages included), in `direction` (`upstream`: what clients send, `downstream`:
    what the node answers, `both`)."""

    def __init__(self, node: str, peer: Optional[str] = None, direction: str = "both"):
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(_DIRECTIONS)}, not {direction!r}")
        self.node, self.peer, self.direction = node, peer, direction

    def _add(self, fault: Any) -> None:
        _call(_network.add_fault, _network.LinkFault(self.node, self.peer, _DIRECTIONS[self.direction], fault))

    def latency(self, ms: int, jitter_ms: int = 0) -> None:
        """Every chunk arrives `ms` (± up to `jitter_ms`) after the proxy read it."""
        self._add(_network.Fault_Latency((ms, jitter_ms)))

    def bandwidth(self, bytes_per_sec: int) -> None:
        """At most this many bytes per second."""
        self._add(_network.Fault_Bandwidth(bytes_per_sec))

    def reset(self) -> None:
        """Reset (RST) every connection now, and every new one as soon as it is accepted."""
        self._add(_network.Fault_Reset())

    def close_after_bytes(self, count: int) -> None:
        """Close a connection once `count` bytes went through."""
        self._add(_network.Fault_CloseAfterBytes(count))

    def slicer(self, average: int, variation: int, delay_us: int) -> None:
        """Deliver in writes of `average` ± `variation` bytes, `delay_us` µs apart."""
        self._add(_network.Fault_Slicer(_network.Slicer(average, variation, delay_us)))

    def drop_new_connections(self) -> None:
        """Close new connections as soon as they are accepted."""
        self._add(_network.Fault_DropNewConnections())

    def clear(self) -> None:
        """Remove the faults armed here."""
        _call(_network.clear_faults, self.node, self.peer)


def faults(node: str, peer: Optional[str] = None, direction: str = "both") -> Faults:
    """Where faults go: connections to `node` from `peer` (None: anyone)."""
    return Faults(node, peer, direction)
