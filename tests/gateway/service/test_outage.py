"""Nothing is lost when the broker goes away: 10 devices at 1 Hz, a 60 s outage, then replay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import GatewayState, Telemetry
from tests.gateway.service.support import ModbusThread, Subscriber, until, write_gateway_config
from tests.harness import MosquittoServer

OUTAGE_S = 60


def first_arrivals(messages: list[Telemetry]) -> list[Telemetry]:
    """QoS 1 is at least once: keep the first arrival of each seq."""
    seen: set[int] = set()
    out = []
    for m in messages:
        if m.seq not in seen:
            seen.add(m.seq)
            out.append(m)
    return out


@pytest.mark.slow
async def test_a_60_s_broker_outage_loses_nothing_and_keeps_each_devices_time_order(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    modbus = ModbusThread().start()
    broker = mosquitto_factory()
    cfg = load_gateway_config(write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port,
                                                   meters=10))
    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"])
    service = GatewayService(config=cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(lambda: len(sub.telemetry()) >= 20, timeout_s=20, what="live telemetry")
        await asyncio.to_thread(broker.stop)
        taken_before = service.buffer.next_seq
        await asyncio.sleep(OUTAGE_S)
        taken_during = service.buffer.next_seq - taken_before
        # Polling went on while the broker was down: about 10 devices x 60 s.
        assert taken_during >= 10 * (OUTAGE_S - 5)
        assert service.buffer.count >= taken_during - 10 * 3
        await asyncio.to_thread(broker.start)
        target = service.buffer.next_seq
        await until(lambda: {m.seq for m in sub.telemetry()} >= set(range(target)), timeout_s=60,
                    what="every reading taken up to the reconnect")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 60)
        await asyncio.to_thread(sub.close)
        modbus.close()

    received = first_arrivals(sub.telemetry())
    taken = service.buffer.next_seq
    # Clean shutdown flushed the rest: every reading ever taken arrived, none missing.
    assert sorted(m.seq for m in received) == list(range(taken))
    assert service.publisher.stats.replayed >= taken_during - 10 * 3
    for device in {m.device for m in received}:
        ts = [m.ts for m in received if m.device == device]
        assert ts == sorted(ts), f"{device} readings arrived out of time order"
    replayed = [m for m in received if m.replayed]
    assert len(replayed) >= taken_during - 10 * 3
    last = sub.statuses()[-1]
    assert last.state is GatewayState.OFFLINE
    assert last.reason == "shutdown: everything delivered"
    assert last.dropped == 0
