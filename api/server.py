"""The listening socket and the HTTP server settings for ``nzd api``.

Accepted connections inherit the listener's send buffer. A bounded one (instead of
Linux's auto-tuning up to several MB) means a live-stream client that stops reading
fills its socket soon, falls behind by ``live_queue_size`` events and is dropped,
instead of pinning megabytes of kernel memory first.

uvicorn closes idle keep-alive connections but waits for a request's headers for ever, so
a client sending them a byte at a time holds a connection open as long as it likes
(slowloris). :func:`header_timeout_protocol` closes a connection whose request headers are
not complete within ``header_timeout_s`` of its opening or of its previous response.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import ApiSettings

__all__ = ["header_timeout_protocol", "listen_socket", "uvicorn_config"]

_MAX_HEADER_BYTES = 16_384
"""Request line plus headers; h11 answers a larger head with 400."""


def header_timeout_protocol(timeout_s: float) -> type[H11Protocol]:
    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # the headers are in; the request is being served

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the next request's headers get the same time

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


def uvicorn_config(app: Any, settings: ApiSettings, **overrides: Any) -> uvicorn.Config:
    """The server settings ``nzd api`` runs with: header timeout, keep-alive, header size."""
    options: dict[str, Any] = {
        "access_log": False, "log_config": None, "proxy_headers": True,
        "http": header_timeout_protocol(settings.header_timeout_s),
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": _MAX_HEADER_BYTES, **overrides}
    return uvicorn.Config(app, **options)


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
