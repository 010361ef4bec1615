"""The status topic: what was dropped for the disk budget, devices going offline, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from prometheus_client import REGISTRY, generate_latest

from gateway.delivery import Reading, ReadingBuffer
from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import DeviceKind, GatewayState
from tests.gateway.service.support import ModbusThread, Subscriber, until, write_gateway_config
from tests.harness import MosquittoServer

T0_MS = 1_764_000_000_000


async def test_status_reports_readings_dropped_for_the_disk_budget_and_devices_going_offline(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    modbus = ModbusThread().start()
    broker = mosquitto_factory()
    path = write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port, meters=2)
    cfg = load_gateway_config(path)
    cfg = cfg.model_copy(update={"buffer": cfg.buffer.model_copy(update={"max_bytes": 1_000_000})})
    # A long outage before this start: more readings than the budget holds.
    backlog = ReadingBuffer(path=cfg.buffer.path, max_bytes=cfg.buffer.max_bytes)
    for i in range(10):
        backlog.append([Reading(device="meter-00", kind=DeviceKind.ELECTRICITY_METER,
                                ts_ms=T0_MS + (i * 1000 + j) * 1000, values={"active_power_w": float(j)})
                        for j in range(1000)])
    dropped = backlog.dropped
    backlog.close()
    assert dropped > 0

    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"])
    service = GatewayService(config=cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(lambda: any(s.state is GatewayState.ONLINE for s in sub.statuses()), timeout_s=20,
                    what="birth")
        birth = next(s for s in sub.statuses() if s.state is GatewayState.ONLINE)
        assert birth.dropped == dropped
        assert birth.buffered > 0
        metrics = generate_latest(REGISTRY).decode()
        assert f"nzd_gateway_dropped_readings_total {float(dropped)}" in metrics
        assert "nzd_gateway_broker_connected 1.0" in metrics
        await until(lambda: any(s.devices.get("meter-00") and s.devices["meter-00"].online
                                for s in sub.statuses()), timeout_s=20, what="devices online")
        # the status tells what the device is read by, from its profile (the dashboard's device rows)
        assert all(s.devices["meter-00"].headline == ["active_power_w"] for s in sub.statuses()
                   if "meter-00" in s.devices)
        modbus.close()  # the devices stop answering
        await until(lambda: any(s.state is GatewayState.ONLINE and s.devices.get("meter-00")
                                and not s.devices["meter-00"].online for s in sub.statuses()[1:]),
                    timeout_s=30, what="status update saying meter-00 is offline")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        sub.close()
    last = sub.statuses()[-1]
    assert last.state is GatewayState.OFFLINE
    assert last.reason is not None and last.reason.startswith("shutdown")
    assert last.dropped == dropped
    # Everything that survived the budget was replayed; nothing since was lost.
    seqs = {m.seq for m in sub.telemetry()}
    assert seqs == set(range(dropped, service.buffer.next_seq))
