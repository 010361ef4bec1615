"""The listening socket for ``nzd api``.

Accepted connections inherit the listener's send buffer. A bounded one (instead of
Linux's auto-tuning up to several MB) means a live-stream client that stops reading
fills its socket soon, falls behind by ``live_queue_size`` events and is dropped,
instead of pinning megabytes of kernel memory first.
"""

from __future__ import annotations

import socket

__all__ = ["listen_socket"]


def listen_socket(host: str, port: int, *, send_buffer_bytes: int | None) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (else Nagle and
    # delayed ACKs add ~40 ms to every small response).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer_bytes:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
