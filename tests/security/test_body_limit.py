"""Item 8: the API refuses request bodies over its limit (1 MiB by default) with 413, a declared
Content-Length before reading it and a streamed (chunked) body as soon as it passes the limit.

An anonymous 300 MB POST to /auth/login took the API to 986 MiB before the limit.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

MIB = 1_048_576


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=tmp_path_factory.mktemp("body")) as server:
        yield server


def _stream(url: str, head: bytes, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``head`` and then ``chunks`` until the server answers; (its answer, body bytes sent)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sent = 0
    answer = b""
    try:
        sock.sendall(head)
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        sock.close()
    return answer, sent


def test_a_declared_oversized_body_is_refused_before_it_is_read(api: ApiServer) -> None:
    host = urlsplit(api.url).netloc.encode()
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
            b"Content-Length: 300000000\r\n\r\n")
    answer, sent = _stream(api.url, head, iter([b"x" * 65536] * 512))  # at most 32 MiB
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    problem = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert problem["status"] == 413 and "1048576 bytes" in problem["detail"]
    assert sent < 16 * MIB


def test_a_streamed_body_is_counted_and_cut_at_the_limit(api: ApiServer) -> None:
    host = urlsplit(api.url).netloc.encode()
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    answer, sent = _stream(api.url, head, iter([chunk] * 512))  # at most 32 MiB
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert sent < 16 * MIB


def test_bodies_under_the_limit_still_work(api: ApiServer) -> None:
    with api.client() as c:
        r = c.post("/api/v1/auth/login", json={"username": api.operator.name,
                                               "password": api.operator.password})
    assert r.status_code == 200 and r.json()["access_token"]
