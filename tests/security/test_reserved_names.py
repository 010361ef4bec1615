"""A quantity named like a store tag (``site``, ``district``...) or in the ``nzd_`` namespace.

The attack: one gateway publishes, on its own site's topic, a reading with a quantity called
``site``. InfluxDB stored it as a field next to the tag ``site``, and from then on every
``WHERE "site" = ...`` of that shard compared the field: ``/latest`` and ``/history`` of every
site came back empty. Now the contract refuses the name, ingest dead-letters the message, and
both stores refuse it even from a caller that skips the contract.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import orjson
import pytest

from coordinator.ingest.settings import DEADLETTER_TOPIC
from nzd.errors import ContractError
from nzd.messages import DeviceKind, Telemetry, decode, encode
from nzd.store import InfluxStore, Reading, SqliteStore, StoreRejected
from nzd.topics import telemetry_topic
from tests.gateway.service.support import Subscriber, publish, until
from tests.harness import InfluxServer, MosquittoServer
from tests.security.conftest import ACCOUNTS, DISTRICT

ATTACK_NAMES = ["site", "district", "device", "time", "seq", "nzd_quality", "nzd_anything"]


def reading(*, seq: int, values: dict[str, float]) -> dict[str, object]:
    now = time.time_ns() // 1_000_000
    return {"ts": now, "seq": seq, "device": "meter", "kind": "electricity_meter", "values": values}


def send(broker: MosquittoServer, site: str, doc: dict[str, object]) -> None:
    user = f"{DISTRICT}/{site}"
    publish(broker.port, telemetry_topic(district=DISTRICT, site=site, device="meter"), orjson.dumps(doc),
            username=user, password=ACCOUNTS[user])


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_the_contract_refuses_a_reserved_quantity_name(name: str) -> None:
    with pytest.raises(ContractError, match="reserved"):
        decode(orjson.dumps(reading(seq=1, values={name: 1.0})), Telemetry)
    ok = decode(orjson.dumps(reading(seq=1, values={"site_power_w": 1.0})), Telemetry)
    assert ok.values == {"site_power_w": 1.0}  # a name merely starting like a tag is fine


@pytest.mark.parametrize("name", ATTACK_NAMES)
async def test_both_stores_refuse_a_reserved_quantity_name(name: str, influxdb: InfluxServer,
                                                           tmp_path: Path) -> None:
    bad = Reading(district=DISTRICT, site="site-a", device="meter", kind=DeviceKind.ELECTRICITY_METER,
                  ts_ms=time.time_ns() // 1_000_000, seq=1, values={name: 1.0})
    influx = InfluxStore(url=influxdb.url, database=f"sec_res_{uuid.uuid4().hex[:8]}")
    sqlite = SqliteStore(path=tmp_path / "s.sqlite")
    for store in (influx, sqlite):
        await store.open()
        try:
            with pytest.raises(StoreRejected, match="reserved"):
                await store.write([bad])
        finally:
            await store.close()


async def test_one_gateway_cannot_blank_every_sites_latest_and_history(
        broker: MosquittoServer, influxdb: InfluxServer, ingest: object) -> None:
    database = f"sec_res_{uuid.uuid4().hex[:8]}"
    dead = Subscriber(port=broker.port, client_id="nzd-api", username="nzd-api",
                      password=ACCOUNTS["nzd-api"], topics=[DEADLETTER_TOPIC])
    store = InfluxStore(url=influxdb.url, database=database, create_database=False)
    try:
        ingest(broker=broker, influx_url=influxdb.url, database=database)  # type: ignore[operator]
        await store.open()
        for site in ("site-a", "site-b"):
            send(broker, site, reading(seq=1, values={"active_power_w": 10.0}))

        async def sites() -> set[str]:
            return {r.site for r in await store.latest(district=DISTRICT)}

        seen: set[str] = set()
        deadline = time.monotonic() + 30
        while seen != {"site-a", "site-b"} and time.monotonic() < deadline:
            seen = await sites()
        assert seen == {"site-a", "site-b"}

        # The attack: site A's own gateway, on its own topic, with a reserved name each time.
        for i, name in enumerate(ATTACK_NAMES):
            send(broker, "site-a", reading(seq=10 + i, values={name: 1.0, "active_power_w": 20.0}))
        await until(lambda: len(dead.snapshot()) >= len(ATTACK_NAMES), timeout_s=30,
                    what="every attack to be dead-lettered")
        letters = [orjson.loads(p) for _, p, _ in dead.snapshot()]
        assert all("reserved" in d["reason"] and d["topic"].startswith(f"nzd/v1/{DISTRICT}/site-a/")
                   for d in letters)

        # Later readings of both sites still show in /latest and /history.
        send(broker, "site-a", reading(seq=100, values={"active_power_w": 30.0}))
        send(broker, "site-b", reading(seq=100, values={"active_power_w": 40.0}))
        expected = {"site-a": (100, {"active_power_w": 30.0}), "site-b": (100, {"active_power_w": 40.0})}
        deadline = time.monotonic() + 30
        latest: dict[str, tuple[int, dict[str, float]]] = {}
        while latest != expected and time.monotonic() < deadline:
            latest = {r.site: (r.seq, r.values) for r in await store.latest(district=DISTRICT)}
        assert latest == expected
        now = time.time_ns() // 1_000_000
        series = await store.history(district=DISTRICT, site="site-b", quantities=["active_power_w"],
                                     start_ms=now - 3_600_000, end_ms=now + 60_000)
        assert [v for s in series for v in s.values["active_power_w"]] == [10.0, 40.0]
        fields = influxdb.query('SHOW FIELD KEYS FROM "electricity_meter"', db=database)
        names = {row[0] for row in fields["results"][0]["series"][0]["values"]}  # type: ignore[index]
        assert names.isdisjoint({"site", "district", "device", "nzd_anything"})
    finally:
        await store.close()
        dead.close()


def test_encode_of_a_valid_reading_is_unchanged() -> None:
    t = Telemetry(ts=1_767_225_600_000, seq=1, device="m", kind=DeviceKind.ELECTRICITY_METER,
                  values={"active_power_w": 1.0})
    assert decode(encode(t), Telemetry) == t
