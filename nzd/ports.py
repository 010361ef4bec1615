"""Free TCP ports for servers started on this machine: the demo's child processes, the tests' servers.

A port is free when the kernel hands it out for ``bind(host, 0)``. Picking several by asking once
per port and closing each socket at once lets the kernel hand the same number out again; here every
probe socket stays bound until all numbers are picked, so no two are ever equal.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Collection

__all__ = ["free_port", "free_ports"]

_EXTRA_TRIES = 64
"""Probes beyond ``count`` and the ports to avoid before giving up (a nearly full port range)."""


def free_ports(count: int, *, host: str = "127.0.0.1", avoid: Collection[int] = ()) -> list[int]:
    """``count`` distinct free ports on ``host``, none of them in ``avoid`` (ports already promised to
    another server that is not listening yet).

    The probe sockets are only bound, never listened on or connected, so closing them leaves no
    TIME_WAIT behind and the servers can bind the ports at once. Another process may still take a
    port between this call and its server's bind: start the servers soon after.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    avoided = set(avoid)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    picked: list[int] = []
    with contextlib.ExitStack() as probes:
        for _ in range(count + len(avoided) + _EXTRA_TRIES):
            if len(picked) == count:
                return picked
            # No SO_REUSEADDR: while this socket is bound the kernel gives its port to nobody else.
            probe = probes.enter_context(socket.socket(family, socket.SOCK_STREAM))
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
            # An avoided port stays bound too, so the kernel moves on to another one.
            if port not in avoided and port not in picked:
                picked.append(port)
        if len(picked) == count:
            return picked
    raise OSError(f"found only {len(picked)} of {count} free ports on {host}")


def free_port(host: str = "127.0.0.1", *, avoid: Collection[int] = ()) -> int:
    """One free port on ``host`` (see :func:`free_ports`; for several, ask for all at once)."""
    return free_ports(1, host=host, avoid=avoid)[0]
