"""The publisher against a real Mosquitto: backlog marked replayed, order kept, queue emptied."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import aiomqtt

from gateway.delivery import DiskWorker, Reading, ReadingBuffer, TelemetryPublisher
from nzd.messages import DeviceKind
from nzd.topics import telemetry_topic
from tests.gateway.service.support import Subscriber, until
from tests.harness import MosquittoServer

T0_MS = 1_764_000_000_000


def readings(n: int, *, start: int) -> list[Reading]:
    return [Reading(device=f"dev-{i % 3}", kind=DeviceKind.WATER_FLOW_METER, ts_ms=T0_MS + (start + i) * 100,
                    values={"water_flow_m3h": float(start + i)}) for i in range(n)]


async def test_backlog_goes_out_replayed_in_order_then_live_readings_and_the_queue_empties(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory()
    buffer = ReadingBuffer(path=tmp_path / "q.sqlite", max_bytes=10_000_000)
    buffer.append(readings(600, start=0))  # taken while the broker was unreachable
    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"])
    disk = DiskWorker()
    publisher = TelemetryPublisher(buffer=buffer, disk=disk, replay_per_s=2000.0,
                                   topic_for=lambda d: telemetry_topic(district="d", site="s", device=d))
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub-test") as client:
        task = asyncio.create_task(publisher.run(client))
        await until(lambda: publisher.stats.published > 0, timeout_s=15, what="replay started")
        await disk.run(buffer.append, readings(30, start=600))  # live, after the connection came up
        publisher.wake()
        assert await publisher.wait_idle(timeout_s=30)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await until(lambda: len(sub.telemetry()) >= 630, timeout_s=15, what="all readings")
    sub.close()
    disk.close()

    received = sub.telemetry()
    assert [m.seq for m in received] == list(range(630))
    assert all(m.replayed for m in received[:600])
    assert not any(m.replayed for m in received[600:])
    assert buffer.count == 0
    assert (publisher.stats.published, publisher.stats.replayed) == (630, 600)
