"""Setpoints end to end: real Mosquitto, a real Modbus server, the gateway service in process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.service import GatewayService
from nzd import __version__
from nzd.config import load_gateway_config
from nzd.messages import Ack, AckResult, GatewayState, Setpoint, encode
from nzd.topics import setpoint_topic
from tests.gateway.service.support import (
    SETPOINT_ADDRESS,
    ModbusThread,
    Subscriber,
    publish,
    until,
    write_gateway_config,
)
from tests.harness import MosquittoServer


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Rig:
    broker: MosquittoServer
    modbus: ModbusThread
    sub: Subscriber
    service: GatewayService

    def send(self, sp: Setpoint) -> None:
        topic = setpoint_topic(district="prato", site="tintoria", asset=sp.asset)
        publish(self.broker.port, topic, encode(sp))

    def register(self) -> int:
        return self.modbus.read_i32(SETPOINT_ADDRESS)

    async def ack_for(self, setpoint_id: int | None, result: AckResult | None = None) -> object:
        def found() -> bool:
            return any(a.setpoint_id == setpoint_id and (result is None or a.result is result)
                       for a in self.sub.acks())
        await until(found, timeout_s=15, what=f"ack of setpoint {setpoint_id}")
        return next(a for a in self.sub.acks() if a.setpoint_id == setpoint_id)


@pytest.fixture
def modbus() -> Iterator[ModbusThread]:
    server = ModbusThread().start()
    yield server
    server.close()


@pytest.fixture
async def rig(tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer],
              modbus: ModbusThread) -> AsyncIterator[Rig]:
    broker = mosquitto_factory()
    cfg = load_gateway_config(write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port,
                                                   meters=1, battery=True))
    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"])
    service = GatewayService(config=cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    rig = Rig(broker, modbus, sub, service)
    await until(lambda: any(s.state is GatewayState.ONLINE for s in sub.statuses()), timeout_s=15,
                what="birth message")
    yield rig
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    sub.close()


def _sp(id_: int, value: float, *, from_ms: int | None = None, until_ms: int | None = None,
        issued_ms: int | None = None) -> Setpoint:
    start = now_ms() - 1000 if from_ms is None else from_ms
    return Setpoint(id=id_, asset="battery", quantity="battery_power_setpoint_w", value=value,
                    valid_from=start, valid_until=until_ms or start + 600_000,
                    issued_at=now_ms() if issued_ms is None else issued_ms)


async def test_birth_message_says_online_with_version_config_hash_and_devices(rig: Rig) -> None:
    birth = next(s for s in rig.sub.statuses() if s.state is GatewayState.ONLINE)
    assert birth.gateway == "gw-1"
    assert birth.software_version == __version__
    assert birth.config_hash.startswith("sha256:")
    assert set(birth.devices) == {"meter-00", "battery"}


async def test_a_setpoint_within_limits_is_written_read_back_and_acknowledged(rig: Rig) -> None:
    await asyncio.to_thread(rig.send, _sp(1, -12_000))
    ack = await rig.ack_for(1)
    assert ack.result is AckResult.APPLIED  # type: ignore[attr-defined]
    assert ack.value == -12_000  # type: ignore[attr-defined]
    assert await asyncio.to_thread(rig.register) == -12_000


async def test_out_of_limits_stale_and_expired_setpoints_leave_the_register_alone(rig: Rig) -> None:
    await asyncio.to_thread(rig.send, _sp(5, 20_000))
    assert (await rig.ack_for(5)).result is AckResult.APPLIED  # type: ignore[attr-defined]

    await asyncio.to_thread(rig.send, _sp(6, 80_000))  # max_value is 50 kW in the gateway's config
    ack = await rig.ack_for(6)
    assert ack.result is AckResult.REJECTED  # type: ignore[attr-defined]
    assert "outside the local limits" in (ack.reason or "")  # type: ignore[attr-defined]

    await asyncio.to_thread(rig.send, _sp(7, 1_000, from_ms=now_ms() - 20_000, until_ms=now_ms() - 10_000))
    assert (await rig.ack_for(7)).result is AckResult.EXPIRED  # type: ignore[attr-defined]

    # issued before the one applied (setpoints are ordered by issue time)
    await asyncio.to_thread(rig.send, _sp(4, 3_000, issued_ms=now_ms() - 60_000))
    assert (await rig.ack_for(4)).result is AckResult.REJECTED  # type: ignore[attr-defined]

    assert await asyncio.to_thread(rig.register) == 20_000


async def test_a_redelivered_setpoint_is_applied_once(rig: Rig) -> None:
    sp = _sp(10, 7_000)
    await asyncio.to_thread(rig.send, sp)
    await rig.ack_for(10)
    await asyncio.to_thread(rig.send, sp)
    await until(lambda: sum(a.setpoint_id == 10 for a in rig.sub.acks()) == 2, timeout_s=15,
                what="second ack")
    assert rig.service.controller.counts["applied"] == 1
    assert rig.service.controller.counts["duplicate"] == 1


async def test_malformed_setpoints_are_rejected_counted_and_the_gateway_goes_on(rig: Rig) -> None:
    topic = setpoint_topic(district="prato", site="tintoria", asset="battery")
    await asyncio.to_thread(publish, rig.broker.port, topic, b"{not json")
    await asyncio.to_thread(publish, rig.broker.port, topic, b'{"id": -1}')
    def rejected() -> list[Ack]:
        return [a for a in rig.sub.acks() if a.result is AckResult.REJECTED and a.setpoint_id is None]

    await until(lambda: len(rejected()) == 2, timeout_s=15, what="two rejections")
    assert rig.service.controller.counts["malformed"] == 2
    assert all("malformed setpoint" in (a.reason or "") for a in rejected())
    await asyncio.to_thread(rig.send, _sp(20, 1_500))
    assert (await rig.ack_for(20)).result is AckResult.APPLIED  # type: ignore[attr-defined]


async def test_when_validity_ends_the_fallback_is_written_and_acknowledged(rig: Rig) -> None:
    await asyncio.to_thread(rig.send, _sp(30, -9_000, until_ms=now_ms() + 2_000))
    assert (await rig.ack_for(30)).result is AckResult.APPLIED  # type: ignore[attr-defined]
    assert await asyncio.to_thread(rig.register) == -9_000
    await until(lambda: any(a.result is AckResult.FALLBACK for a in rig.sub.acks()), timeout_s=15,
                what="fallback ack")
    fallback = next(a for a in rig.sub.acks() if a.result is AckResult.FALLBACK)
    assert fallback.value == 0
    assert fallback.setpoint_id is None
    assert await asyncio.to_thread(rig.register) == 0

