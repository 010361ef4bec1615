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


async def test_with_confirmations_a_row_stays_until_confirmed_and_what_ingest_missed_is_resent(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory()
    buffer = ReadingBuffer(path=tmp_path / "q.sqlite", max_bytes=10_000_000)
    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"])
    disk = DiskWorker()
    publisher = TelemetryPublisher(buffer=buffer, disk=disk, replay_per_s=2000.0, confirm_timeout_s=1.0,
                                   topic_for=lambda d: telemetry_topic(district="d", site="s", device=d))
    # A confirmation for seqs this publisher never sent (an older life of the queue) deletes nothing.
    publisher.confirm("dev-0", [[0, 1000]])
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="pub-confirm") as client:
        task = asyncio.create_task(publisher.run(client))
        await asyncio.sleep(0.3)  # connected with an empty queue: what follows is live
        await disk.run(buffer.append, readings(30, start=0))  # seq 0..29, dev-0 holds 0, 3, 6, ...
        publisher.wake()
        await until(lambda: publisher.stats.published >= 30, timeout_s=15, what="first sending")
        await asyncio.sleep(1.5)  # past the timeout, but no confirmation yet: ingest may be down
        assert buffer.count == 30  # the broker's PUBACK is not the store's confirmation
        assert publisher.stats.resent == 0  # nothing repeated in vain
        publisher.confirm("dev-0", [[0, 29]])  # ingest is alive: what it did not confirm was lost
        await until(lambda: publisher.stats.resent >= 20, timeout_s=15, what="a resend of the rest")
        assert buffer.count == 20
        publisher.confirm("dev-1", [[0, 29]])
        await until(lambda: buffer.count == 10, timeout_s=5, what="confirmed rows deleted")
        resent_before = publisher.stats.resent
        publisher.confirm("dev-2", [[0, 14], [15, 29]])
        assert await publisher.wait_idle(timeout_s=10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await asyncio.to_thread(sub.close)
    disk.close()
    received = sub.telemetry()
    first = [m for m in received if not m.replayed]
    again = [m for m in received if m.replayed]
    assert [m.seq for m in first] == list(range(30))
    # dev-1's and dev-2's readings sent again, marked replayed; dev-0's were confirmed in time
    assert {m.seq for m in again} == {s for s in range(30) if s % 3 != 0}
    assert publisher.stats.confirmed == 30
    assert publisher.stats.resent - resent_before <= 10  # only dev-2's rows were still due
