"""InfluxDB store over HTTP: authentication, retries through an outage, final refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from nzd.messages import DeviceKind
from nzd.store import InfluxStore, Reading, StoreRejected, StoreUnavailable
from tests.harness import InfluxServer, free_port

T0 = 1_767_225_600_000


def reading(seq: int, **values: float) -> Reading:
    return Reading(district="d1", site="s1", device="m1", kind=DeviceKind.ELECTRICITY_METER,
                   ts_ms=T0 + seq, seq=seq, values=values or {"active_power_w": float(seq)})


async def test_username_and_password_authenticate(influx_factory: Callable[..., InfluxServer]) -> None:
    server = influx_factory(auth=True)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{server.url}/query",
                              params={"q": "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES"})
        r.raise_for_status()
    good = InfluxStore(url=server.url, database="authdb", username="admin", password="pw")
    await good.open()
    await good.write([reading(1)])
    assert [r.seq for r in await good.latest(district="d1")] == [1]
    await good.close()

    bad = InfluxStore(url=server.url, database="authdb", username="admin", password="wrong",
                      create_database=False)
    await bad.open()
    # Wrong credentials are a setup error: "unavailable", so that ingest holds its data.
    with pytest.raises(StoreUnavailable, match="401"):
        await bad.write([reading(2)])
    assert bad.retries == 0
    # A token goes in the Authorization header (2.x/3.x); InfluxDB 1.6 cannot parse it and says so.
    token = InfluxStore(url=server.url, database="authdb", token="tok", create_database=False)
    await token.open()
    with pytest.raises(StoreUnavailable, match="authentication credentials"):
        await token.write([reading(3)])
    await bad.close()
    await token.close()


async def test_write_waits_out_an_outage_and_then_stores(influx_factory: Callable[..., InfluxServer]) -> None:
    server = influx_factory()
    reasons: list[str] = []
    store = InfluxStore(url=server.url, database="outage", retry_total_s=60.0, timeout_s=2.0,
                        on_retry=reasons.append)
    await store.open()
    server.stop()
    write = asyncio.create_task(store.write([reading(i) for i in range(100)]))
    await asyncio.sleep(1.5)
    assert not write.done()
    await asyncio.to_thread(server.start)
    await asyncio.wait_for(write, timeout=60)
    assert reasons and store.retries == len(reasons)
    latest = await store.latest(district="d1")
    assert [r.seq for r in latest] == [99]
    await store.close()


async def test_unreachable_store_gives_up_after_the_retry_budget() -> None:
    store = InfluxStore(url=f"http://127.0.0.1:{free_port()}", database="x", retry_total_s=0.5,
                        create_database=False)
    await store.open()
    with pytest.raises(StoreUnavailable, match="cannot reach"):
        await store.write([reading(1)])
    assert store.retries >= 1
    assert not await store.ping()
    await store.close()


async def test_a_field_type_conflict_is_refused_without_retry(influxdb: InfluxServer) -> None:
    store = InfluxStore(url=influxdb.url, database="conflict_test", retry_total_s=5.0)
    await store.open()
    await store.write([reading(1)])
    # The same field written as a string is a 400 from InfluxDB: final, with its reason.
    body = b'electricity_meter,device=m1,district=d1,site=s1 active_power_w="x" 1767225600005'
    with pytest.raises(StoreRejected, match="field type conflict"):
        await store.http.write(body)
    assert store.retries == 0
    await store.close()


async def test_using_a_store_before_open_says_so() -> None:
    store = InfluxStore(url="http://127.0.0.1:1", database="x")
    with pytest.raises(RuntimeError, match="open"):
        await store.write([reading(1)])
