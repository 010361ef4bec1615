"""Item 11: a live stream opened with a short-lived JWT ends when the token expires (before, it
kept streaming); one opened with an API token stays open."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("live-expiry")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder, jwt_ttl_s=3) as server:
        yield server


def _login(api: ApiServer) -> str:
    r = httpx.post(f"{api.url}/api/v1/auth/login", timeout=10,
                   json={"username": api.manager_a.name, "password": api.manager_a.password})
    assert r.status_code == 200 and r.json()["expires_in_s"] == 3
    token: str = r.json()["access_token"]
    return token


@pytest.mark.parametrize("via", ["query", "header"])
def test_the_stream_ends_when_its_jwt_expires(api: ApiServer, via: str) -> None:
    token = _login(api)
    params = {"access_token": token} if via == "query" else {}
    headers = {"Authorization": f"Bearer {token}"} if via == "header" else {}
    started = time.monotonic()
    body = b""
    # The read timeout only bounds a hung test: the server must end the body by itself.
    with httpx.stream("GET", f"{api.url}/api/v1/live", params=params, headers=headers,
                      timeout=httpx.Timeout(30.0)) as r:
        assert r.status_code == 200
        for chunk in r.iter_bytes():
            body += chunk
            if time.monotonic() - started > 20:  # still streaming (a keepalive every 15 s)
                break
    elapsed_s = time.monotonic() - started
    assert body.startswith(b"event: hello") and body.rstrip().endswith(
        b'event: expired\ndata: {"detail":"the access token has expired"}')
    assert elapsed_s < 25
    # Reconnecting with the same token is refused.
    again = httpx.get(f"{api.url}/api/v1/live", params={"access_token": token}, timeout=10)
    assert again.status_code == 401


def test_a_stream_with_an_api_token_outlives_the_jwt_lifetime(api: ApiServer) -> None:
    deadline = time.monotonic() + 5  # longer than the 3 s JWT lifetime
    with httpx.stream("GET", f"{api.url}/api/v1/live", timeout=httpx.Timeout(30.0),
                      headers={"Authorization": f"Bearer {api.manager_a.token}"}) as r:
        assert r.status_code == 200
        chunks = r.iter_bytes()
        assert next(chunks).startswith(b"event: hello")
        time.sleep(max(0.0, deadline - time.monotonic()))
        assert not r.is_closed
