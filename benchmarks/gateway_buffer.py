"""Gateway store-and-forward throughput, one JSON line.

Against a real Mosquitto started here, in the same run:
- ``direct_per_s``: readings/s published with QoS 1 straight from memory (no disk queue),
  with the same in-flight window as the gateway: the baseline;
- ``buffered_confirmed_per_s``: readings/s through the gateway's path with end-to-end
  confirmation: committed to the SQLite WAL queue (synchronous=FULL, 100 readings per
  commit, like one poll cycle of 100 devices) and published until the last PUBACK, while
  a real ``nzd ingest`` (SQLite store, synchronous=FULL) stores them and its confirmations
  (at most once a second per device) delete them from the queue: the gateway's throughput,
  compared with the baseline; ``confirmed_end_to_end_per_s``: the same run until the queue
  is empty, i.e. until ingest has stored and confirmed the last reading (bounded by
  ingest and its store, and by the confirmation interval);
  ``buffered_per_s``: deleting at the PUBACK, without confirmations (until the queue is empty);
- ``replay_capacity_per_s``: drain rate of a backlog queued while the broker was away,
  with the replay pacing lifted; ``replay_paced_per_s``: the same with the default
  pace (``BufferConfig.replay_per_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from gateway.delivery import DiskWorker, Reading, ReadingBuffer, TelemetryPublisher  # noqa: E402
from nzd.config import BufferConfig  # noqa: E402
from nzd.errors import ContractError  # noqa: E402
from nzd.messages import Confirm, DeviceKind, Telemetry, decode, encode  # noqa: E402
from nzd.topics import TopicKind, site_filter, telemetry_topic  # noqa: E402
from tests.coordinator.ingest.support import IngestProcess  # noqa: E402
from tests.harness import MosquittoServer  # noqa: E402

N = 20_000
CONFIRM_TIMEOUT_S = 30.0
ROUNDS = 3
BATCH = 100
WINDOW = 256
BACKLOG = 20_000
PACED_BACKLOG = 1_500
T0_MS = 1_764_000_000_000


def readings(n: int) -> list[Reading]:
    return [Reading(device=f"meter-{i % 100:02d}", kind=DeviceKind.ELECTRICITY_METER, ts_ms=T0_MS + i,
                    values={"active_power_w": 1234.5 + i, "energy_import_wh": 987654.0 + i,
                            "voltage_v": 230.1, "current_a": 5.4, "power_factor": 0.97,
                            "frequency_hz": 50.0})
            for i in range(n)]


def topic(device: str) -> str:
    return telemetry_topic(district="bench", site="site", device=device)


async def direct(port: int) -> float:
    payloads = [(topic(r.device), encode(Telemetry(ts=r.ts_ms, seq=i, device=r.device, kind=r.kind,
                                                   values=r.values)))
                for i, r in enumerate(readings(N))]
    slots = asyncio.Semaphore(WINDOW)
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-direct",
                              max_inflight_messages=WINDOW) as client:
        client.pending_calls_threshold = WINDOW + 64

        async def one(t: str, p: bytes) -> None:
            try:
                await client.publish(t, p, qos=1, timeout=30)
            finally:
                slots.release()

        start = time.perf_counter()
        async with asyncio.TaskGroup() as tg:
            for t, p in payloads:
                await slots.acquire()
                tg.create_task(one(t, p))
        return N / (time.perf_counter() - start)


async def _confirmations(client: aiomqtt.Client, publisher: TelemetryPublisher) -> None:
    """What the gateway service does with ingest's confirmations."""
    async for message in client.messages:
        payload = message.payload
        if not isinstance(payload, bytes):
            continue
        with contextlib.suppress(ContractError):
            confirm = decode(payload, Confirm)
            publisher.confirm(confirm.device, confirm.ranges)


async def drain(port: int, buffer: ReadingBuffer, disk: DiskWorker, *, replay_per_s: float,
                feed: list[Reading] | None, confirm: bool = False) -> tuple[float, float]:
    """Start a publisher; feed readings (or drain what is queued).

    Returns (rate until every reading was PUBACKed, rate until the queue is empty); without
    confirmations both are the same moment, with them the second waits for ingest to store
    and confirm.
    """
    publisher = TelemetryPublisher(buffer=buffer, disk=disk, topic_for=topic, replay_per_s=replay_per_s,
                                   window=WINDOW, confirm_timeout_s=CONFIRM_TIMEOUT_S if confirm else None)
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"bench-{replay_per_s}-{confirm}",
                              max_inflight_messages=WINDOW) as client:
        client.pending_calls_threshold = WINDOW + 64
        listener = None
        if confirm:
            await client.subscribe(site_filter(TopicKind.CONFIRM, district="bench", site="site"), qos=1)
            listener = asyncio.create_task(_confirmations(client, publisher))
        task = asyncio.create_task(publisher.run(client))
        start = time.perf_counter()
        count = buffer.count if feed is None else len(feed)
        published_at = 0.0

        async def watch() -> None:
            nonlocal published_at
            while publisher.stats.published < count:  # noqa: ASYNC110  # a counter, polled: no hook to add
                await asyncio.sleep(0.005)
            published_at = time.perf_counter()

        watcher = asyncio.create_task(watch())
        if feed is not None:
            for i in range(0, len(feed), BATCH):
                await disk.run(buffer.append, feed[i:i + BATCH])
                publisher.wake()
        while not await publisher.wait_idle(timeout_s=60):
            pass
        elapsed = time.perf_counter() - start
        await watcher
        for t in (task, listener):
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t
    return count / (published_at - start), count / elapsed


async def main() -> None:
    broker = MosquittoServer().start()
    work = Path(tempfile.mkdtemp(prefix="nzd-bench-buffer-"))
    # A real ingest stores (SQLite, synchronous=FULL) and confirms; it receives every round's
    # messages, the baseline's too, so all rounds share the same load.
    ingest = IngestProcess(mqtt_port=broker.port, influx_url="", database="", client_id="bench-ingest",
                           group="bench", log_path=work / "ingest.log", sqlite_path=work / "store.sqlite")
    ingest.start()
    disk = DiskWorker()
    try:
        # Alternate and keep each one's best round: the machine may be shared.
        direct_rate = buffered_rate = confirmed_rate = stored_rate = 0.0
        for round_ in range(ROUNDS):
            direct_rate = max(direct_rate, await direct(broker.port))
            live = ReadingBuffer(path=work / f"live-{round_}.sqlite", max_bytes=256 * 1024 * 1024)
            buffered_rate = max(buffered_rate, (await drain(broker.port, live, disk, replay_per_s=1e9,
                                                            feed=readings(N)))[1])
            confirmed = ReadingBuffer(path=work / f"confirmed-{round_}.sqlite", max_bytes=256 * 1024 * 1024)
            sent, stored = await drain(broker.port, confirmed, disk, replay_per_s=1e9, feed=readings(N),
                                       confirm=True)
            confirmed_rate, stored_rate = max(confirmed_rate, sent), max(stored_rate, stored)
            await asyncio.sleep(2)  # let ingest finish with this round before the next baseline

        backlog = ReadingBuffer(path=work / "backlog.sqlite", max_bytes=256 * 1024 * 1024)
        for i in range(0, BACKLOG, 1000):
            backlog.append(readings(BACKLOG)[i:i + 1000])
        replay_capacity = (await drain(broker.port, backlog, disk, replay_per_s=1e9, feed=None))[1]

        default_pace = BufferConfig().replay_per_s
        backlog.append(readings(PACED_BACKLOG))
        replay_paced = (await drain(broker.port, backlog, disk, replay_per_s=default_pace, feed=None))[1]
    finally:
        disk.close()
        ingest.stop()
        broker.close()
    print(json.dumps({
        "benchmark": "gateway_buffer",
        "readings": N,
        "rounds": ROUNDS,
        "direct_per_s": round(direct_rate),
        "buffered_confirmed_per_s": round(confirmed_rate),
        "buffered_confirmed_vs_direct": round(confirmed_rate / direct_rate, 3),
        "confirmed_end_to_end_per_s": round(stored_rate),
        "buffered_per_s": round(buffered_rate),
        "buffered_vs_direct": round(buffered_rate / direct_rate, 3),
        "replay_capacity_per_s": round(replay_capacity),
        "replay_paced_per_s": round(replay_paced),
        "replay_pace_configured_per_s": default_pace,
        "commit_batch": BATCH,
        "window": WINDOW,
    }))


if __name__ == "__main__":
    asyncio.run(main())
