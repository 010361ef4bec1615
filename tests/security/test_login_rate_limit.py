"""Item 14 (logins): the API limits login attempts per client address and per user name, in the
app: over the limit, 429 with Retry-After before any password check. Before, there was no
limit, and behind 120 bogus logins a real one waited 5.3 s.

Client addresses come from X-Forwarded-For, which uvicorn takes from the loopback proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from api.auth.throttle import LoginThrottle
from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

URL = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("logins")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder, login_attempts_per_address=10,
                     login_attempts_per_user=20, login_window_s=60) as server:
        yield server


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def test_a_flood_of_bogus_logins_is_cut_off_and_the_real_user_gets_in(api: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as c:
        flood = await asyncio.gather(*(
            c.post(URL, json={"username": f"mallory-{i}", "password": "guess"}, headers=_from("10.0.0.66"))
            for i in range(120)))
        statuses = [r.status_code for r in flood]
        assert statuses.count(401) == 10 and statuses.count(429) == 110
        limited = next(r for r in flood if r.status_code == 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["title"] == "Too many requests"
        # The operator, from elsewhere, logs in at once (no queue of argon2 checks ahead of them).
        real = await c.post(URL, json={"username": api.operator.name, "password": api.operator.password},
                            headers=_from("10.0.0.7"))
        assert real.status_code == 200


async def test_guessing_one_users_password_from_many_addresses_is_limited(api: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as c:
        answers = [await c.post(URL, json={"username": "rossi", "password": f"guess-{i}"},
                                headers=_from(f"10.1.0.{i}")) for i in range(25)]
    statuses = [r.status_code for r in answers]
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5
    # Even the right password waits now: the limit is on the name, whoever asks.
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as c:
        r = await c.post(URL, json={"username": "rossi", "password": api.manager_a.password},
                         headers=_from("10.2.0.1"))
    assert r.status_code == 429 and "retry-after" in r.headers


def test_successful_logins_do_not_count_and_the_window_slides() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_address=2, per_user=5, window_s=10, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.acquire(address="a", username="op") is None
        throttle.succeeded(address="a", username="op")
    assert throttle.acquire(address="a", username="x") is None
    assert throttle.acquire(address="a", username="y") is None
    assert throttle.acquire(address="a", username="z") == 10.0
    now[0] = 10.5
    assert throttle.acquire(address="a", username="z") is None
