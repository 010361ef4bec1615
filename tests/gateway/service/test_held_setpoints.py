"""A setpoint held for a later window never keeps an ended one in force, and survives a restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import AckResult, GatewayState, Setpoint, encode
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


def setpoint(id_: int, value: float, start_ms: int, end_ms: int) -> Setpoint:
    return Setpoint(id=id_, asset="battery", quantity="battery_power_setpoint_w", value=value,
                    valid_from=start_ms, valid_until=end_ms, issued_at=now_ms())


async def start(cfg_path: Path) -> tuple[GatewayService, asyncio.Event, asyncio.Task[None]]:
    service = GatewayService(config=load_gateway_config(cfg_path))
    stop = asyncio.Event()
    return service, stop, asyncio.create_task(service.run(stop))


async def stop_service(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


async def test_a_held_setpoint_never_delays_the_fallback_and_a_restart_keeps_it_held(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    modbus = ModbusThread().start()
    broker = mosquitto_factory()
    cfg_path = write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port, battery=True)
    sub = await asyncio.to_thread(Subscriber, port=broker.port,
                                  topics=["nzd/v1/+/+/ack/+", "nzd/v1/+/+/+/status"])
    topic = setpoint_topic(district="prato", site="tintoria", asset="battery")
    service, stop, task = await start(cfg_path)
    try:
        await until(lambda: any(s.state is GatewayState.ONLINE for s in sub.statuses()), timeout_s=15,
                    what="birth message")
        t0 = now_ms()
        now_sp = setpoint(1, 1500, t0 - 1000, t0 + 3000)        # in force for 3 s
        later = setpoint(2, -700, t0 + 9000, t0 + 60_000)      # held: its window opens 6 s after that
        await asyncio.to_thread(publish, broker.port, topic, encode(now_sp))
        await until(lambda: modbus.read_i32(SETPOINT_ADDRESS) == 1500, timeout_s=10,
                    what="setpoint 1 written")
        await asyncio.to_thread(publish, broker.port, topic, encode(later))
        await until(lambda: 2 in {sp.id for sp in service.controller.pending.values()}, timeout_s=10,
                    what="setpoint 2 held")

        # Validity of setpoint 1 ends while 2 is held: the fallback (0 W) is written at once.
        await until(lambda: any(a.result is AckResult.FALLBACK for a in sub.acks()), timeout_s=10,
                    what="the fallback ack")
        fallback = next(a for a in sub.acks() if a.result is AckResult.FALLBACK)
        assert fallback.ts - now_sp.valid_until < 1000  # the watchdog's period, not the held window
        assert fallback.ts < later.valid_from
        assert modbus.read_i32(SETPOINT_ADDRESS) == 0

        # The gateway restarts while 2 is still held: the broker was told it arrived, the disk keeps it.
        await stop_service(stop, task)
        service, stop, task = await start(cfg_path)
        await until(lambda: 2 in {sp.id for sp in service.controller.pending.values()}, timeout_s=10,
                    what="setpoint 2 held again after the restart")
        await until(lambda: any(a.setpoint_id == 2 and a.result is AckResult.APPLIED for a in sub.acks()),
                    timeout_s=20, what="setpoint 2 applied when its window opened")
        applied = next(a for a in sub.acks() if a.setpoint_id == 2)
        assert applied.ts >= later.valid_from
        assert modbus.read_i32(SETPOINT_ADDRESS) == -700
        assert service.controller.pending == {}
    finally:
        await stop_service(stop, task)
        await asyncio.to_thread(sub.close)
        modbus.close()
    # Released once applied: a third start holds nothing.
    service, stop, task = await start(cfg_path)
    try:
        await asyncio.sleep(0.5)
        assert service.controller.pending == {}
    finally:
        await stop_service(stop, task)
