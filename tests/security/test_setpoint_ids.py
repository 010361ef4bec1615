"""Item 9: setpoint ids are unique by construction, and the gateway orders setpoints by issue
time, so a huge id no longer blocks later setpoints.

Before: ids were the current millisecond; 40 concurrent manual setpoints got 7 ids, duplicates
were acknowledged "applied" without being written, stored records overwrote each other, and a
setpoint with id 2^63-1 blocked every later one for its asset. Real API, real Mosquitto, the
gateway service over a real Modbus server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import AckResult, GatewayState, Setpoint, SetpointSource, encode
from nzd.setpoint_ids import SetpointIdAllocator, SetpointSender
from nzd.topics import setpoint_topic
from tests.api.conftest import ApiServer
from tests.gateway.service.support import (
    SETPOINT_ADDRESS,
    ModbusThread,
    Subscriber,
    publish,
    until,
    write_gateway_config,
)
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

SITE, ASSET = "depuratore", "community-battery"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Rig:
    api: ApiServer
    modbus: ModbusThread
    sub: Subscriber
    gateway: GatewayService

    def acks(self, setpoint_id: int) -> list[object]:
        return [a for a in self.sub.acks() if a.setpoint_id == setpoint_id]


@pytest.fixture
def modbus() -> Iterator[ModbusThread]:
    server = ModbusThread().start()
    yield server
    server.close()


@pytest.fixture
async def rig(tmp_path: Path, influxdb: InfluxServer, mosquitto: MosquittoServer,
              modbus: ModbusThread) -> AsyncIterator[Rig]:
    path = write_gateway_config(tmp_path, broker_port=mosquitto.port, modbus_port=modbus.port, battery=True)
    config = yaml.safe_load(path.read_text())
    config.update(district="prato-est", site=SITE, gateway="gw-sec-ids")
    config["assets"][0]["name"] = ASSET
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    sub = await asyncio.to_thread(Subscriber, port=mosquitto.port, client_id="sec-ids",
                                  topics=[f"nzd/v1/prato-est/{SITE}/#"])
    gateway = GatewayService(config=load_gateway_config(path))
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        await until(lambda: any(s.state is GatewayState.ONLINE and s.gateway == "gw-sec-ids"
                                for s in sub.statuses()), timeout_s=15, what="gateway online")
        with running_api(influx=influxdb, mosquitto=mosquitto, folder=tmp_path) as api:
            yield Rig(api, modbus, sub, gateway)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        sub.close()


async def _manual(client: httpx.AsyncClient, value: float) -> dict[str, object]:
    r = await client.post(f"/api/v1/sites/{SITE}/setpoints", json={
        "asset": ASSET, "quantity": "battery_power_setpoint_w", "value": value, "valid_minutes": 10})
    assert r.status_code == 202, r.text
    body: dict[str, object] = r.json()
    return body


async def test_forty_concurrent_manual_setpoints_get_forty_ids_all_stored_none_lost(rig: Rig) -> None:
    headers = {"Authorization": f"Bearer {rig.api.operator.token}"}
    async with httpx.AsyncClient(base_url=rig.api.url, headers=headers, timeout=30) as c:
        sent = await asyncio.gather(*(_manual(c, -1000.0 * (i + 1)) for i in range(40)))
        ids = [int(s["document"]["id"]) for s in sent]  # type: ignore[index]
        assert len(set(ids)) == 40
        stored = (await c.get(f"/api/v1/sites/{SITE}/setpoints", params={"limit": 100})).json()
    assert len({e["key"] for e in stored}) == 40 and {e["document"]["id"] for e in stored} == set(ids)
    # Every one reaches the gateway and is judged on its own: none is taken for a redelivery.
    await until(lambda: all(rig.acks(i) for i in ids), timeout_s=30, what="40 acknowledgements")
    acks = [a for i in ids for a in rig.acks(i)]
    assert len(acks) == 40
    assert rig.gateway.controller.counts["duplicate"] == 0
    assert not any("delivered again" in (a.reason or "") for a in acks)  # type: ignore[attr-defined]
    # The newest by issue time is what the battery was last told.
    newest = max(sent, key=lambda s: (s["document"]["issued_at"], s["document"]["id"]))  # type: ignore[index]
    applied = [a for a in acks if a.result is AckResult.APPLIED]  # type: ignore[attr-defined]
    assert applied and rig.gateway.controller.counts["applied"] == len(applied)
    assert await asyncio.to_thread(rig.modbus.read_i32, SETPOINT_ADDRESS) == newest["document"]["value"]  # type: ignore[index]


async def test_a_huge_id_does_not_block_the_operators_later_setpoint(rig: Rig) -> None:
    topic = setpoint_topic(district="prato-est", site=SITE, asset=ASSET)
    t = now_ms()
    huge = Setpoint(id=2**63 - 1, asset=ASSET, quantity="battery_power_setpoint_w", value=-5000.0,
                    valid_from=t - 1000, valid_until=t + 600_000, issued_at=t - 500,
                    source=SetpointSource.PLAN)
    await asyncio.to_thread(publish, rig.api.mosquitto.port, topic, encode(huge))
    await until(lambda: bool(rig.acks(2**63 - 1)), timeout_s=15, what="the huge id's ack")
    assert rig.acks(2**63 - 1)[0].result is AckResult.APPLIED  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {rig.api.operator.token}"}
    async with httpx.AsyncClient(base_url=rig.api.url, headers=headers, timeout=30) as c:
        later = await _manual(c, -7000.0)
    later_id = int(later["document"]["id"])  # type: ignore[index]
    assert later_id < 2**63 - 1
    await until(lambda: bool(rig.acks(later_id)), timeout_s=15, what="the operator's ack")
    assert rig.acks(later_id)[0].result is AckResult.APPLIED  # type: ignore[attr-defined]
    assert await asyncio.to_thread(rig.modbus.read_i32, SETPOINT_ADDRESS) == -7000
    # Dated a day ahead, a setpoint would outrank everything by issue time: the gateway refuses it.
    future = huge.model_copy(update={"id": 12345, "issued_at": now_ms() + 86_400_000})
    await asyncio.to_thread(publish, rig.api.mosquitto.port, topic, encode(future))
    await until(lambda: bool(rig.acks(12345)), timeout_s=15, what="the future setpoint's ack")
    ack = rig.acks(12345)[0]
    assert ack.result is AckResult.REJECTED and "in the future" in (ack.reason or "")  # type: ignore[attr-defined]


def test_ids_from_the_api_and_the_coordinator_never_collide() -> None:
    api = SetpointIdAllocator(sender=SetpointSender.API)
    coordinator = SetpointIdAllocator(sender=SetpointSender.COORDINATOR)
    t = now_ms()
    ids = [a.next(issued_at_ms=t) for _ in range(70_000) for a in (api, coordinator)]
    assert len(set(ids)) == len(ids) and max(ids) < 2**63
