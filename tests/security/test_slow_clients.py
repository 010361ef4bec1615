"""Item 16 (slow clients): ``nzd api``'s server closes a connection whose request headers do not
arrive within NZD_HEADER_TIMEOUT_S, on a fresh connection and between keep-alive requests.

Before, uvicorn waited for headers for ever: a client sending a byte a second held its
connection as long as it liked (slowloris). The server runs with the settings ``nzd api`` uses
(api/server.py: uvicorn_config).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from api import create_app
from api.server import listen_socket, uvicorn_config
from api.settings import ApiSettings
from tests.api.conftest import DISTRICT_FILE, _Server
from tests.harness import InfluxServer, MosquittoServer, free_port


@pytest.fixture(scope="module")
def url(influxdb: InfluxServer, mosquitto: MosquittoServer) -> Iterator[str]:
    settings = ApiSettings(influx_url=influxdb.url, influx_database="sec_slow", mqtt_url=mosquitto.url,
                           district_file=DISTRICT_FILE, jwt_secret=SecretStr("demo-only-" + "k" * 32),
                           header_timeout_s=1.0, keep_alive_s=30)
    port = free_port()
    sock = listen_socket("127.0.0.1", port, send_buffer_bytes=None)
    server = _Server(uvicorn_config(create_app(settings), settings, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _dribble(sock: socket.socket, data: bytes, *, every_s: float, for_s: float) -> float | None:
    """Send ``data`` a byte at a time; the seconds until the server closed, None if it never did."""
    started = time.monotonic()
    sock.settimeout(every_s)
    for i in range(len(data)):
        if time.monotonic() - started > for_s:
            return None
        try:
            sock.send(data[i:i + 1])
            if sock.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    return None


def test_headers_sent_a_byte_at_a_time_get_the_connection_closed(url: str) -> None:
    parts = urlsplit(url)
    head = b"GET /api/v1/district HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        closed_after_s = _dribble(sock, head, every_s=0.25, for_s=8)
    assert closed_after_s is not None, "the server kept the slow connection open"


def test_a_keep_alive_connection_gets_the_same_limit_for_its_next_request(url: str) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/district HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        # keep_alive_s is 30 s: only the header timeout can close this one.
        closed_after_s = _dribble(sock, b"GET /api/v1/district HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 40,
                                  every_s=0.25, for_s=8)
    assert closed_after_s is not None


def test_a_normal_client_is_served(url: str) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=10) as c:
        for _ in range(3):  # one keep-alive connection, several requests
            assert c.get("/api/v1/district").status_code == 200
            time.sleep(0.5)
