"""Ingest throughput against a bare paho-mqtt subscriber on the same broker, in one run.

Starts a private Mosquitto and influxd. Each measurement publishes the same
``--messages`` telemetry messages from ``--publishers`` processes at full speed
and times from the start of publishing until the consumer is done: the bare
subscriber has received them all, or ingest has stored them all (its
``written`` metric; the distinct ``seq`` count in InfluxDB is checked after).
Prints one JSON line.

    python benchmarks/ingest.py [--messages 40000] [--publishers 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from nzd.topics import TopicKind, site_filter  # noqa: E402
from tests.coordinator.ingest.support import IngestProcess, distinct_seq, payloads, publish  # noqa: E402
from tests.harness import InfluxServer, MosquittoServer  # noqa: E402


def _publisher(port: int, publisher: int, count: int, ready: MpEvent, go: MpEvent) -> None:
    messages = payloads(publisher=publisher, count=count, seq_start=publisher * count)
    ready.set()
    go.wait()
    publish(port, messages)


def _bare_subscriber(port: int, total: int, ready: MpEvent, done_at: mp.Value) -> None:  # type: ignore[valid-type]
    received = 0

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received == total:
            done_at.value = time.time()  # type: ignore[attr-defined]
            client.disconnect()

    def on_subscribe(*args: object) -> None:
        ready.set()

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         client_id=f"bare-{uuid.uuid4().hex[:6]}")
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.connect("127.0.0.1", port)
    client.subscribe(site_filter(TopicKind.TELEMETRY), qos=1)
    client.loop_forever()


def _run_publishers(port: int, *, total: int, publishers: int) -> tuple[float, list[mp.Process]]:
    """Start publisher processes, wait until their payloads are built, release them; returns the start."""
    ctx = mp.get_context("fork")
    go = ctx.Event()
    readies = [ctx.Event() for _ in range(publishers)]
    procs = [ctx.Process(target=_publisher, args=(port, p, total // publishers, readies[p], go))
             for p in range(publishers)]
    for p in procs:
        p.start()
    for r in readies:
        r.wait(timeout=120)
    started = time.time()
    go.set()
    return started, procs


def bare_rate(port: int, *, total: int, publishers: int) -> float:
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    done_at = ctx.Value("d", 0.0)
    sub = ctx.Process(target=_bare_subscriber, args=(port, total, ready, done_at))
    sub.start()
    ready.wait(timeout=30)
    started, procs = _run_publishers(port, total=total, publishers=publishers)
    sub.join(timeout=300)
    for p in procs:
        p.join(timeout=60)
    if done_at.value == 0.0:
        raise RuntimeError("the bare subscriber did not receive every message")
    return total / (done_at.value - started)


def ingest_rate(broker: MosquittoServer, influx: InfluxServer, *, total: int, publishers: int,
                workers: int, workdir: Path) -> dict[str, float]:
    db = f"bench_{workers}w_{uuid.uuid4().hex[:6]}"
    group = f"bench{uuid.uuid4().hex[:6]}"
    procs = [IngestProcess(mqtt_port=broker.port, influx_url=influx.url, database=db,
                           client_id=f"bench-{group}-{w}", group=group, log_path=workdir / f"{db}-{w}.log")
             .start() for w in range(workers)]
    try:
        started, pubs = _run_publishers(broker.port, total=total, publishers=publishers)
        deadline = time.time() + 300
        while True:
            written = sum(int(str(p.health().get("written", 0))) for p in procs)
            if written >= total:
                done = time.time()
                break
            if time.time() > deadline:
                raise RuntimeError(f"ingest stored {written} of {total} in 300 s")
            time.sleep(0.05)
        for p in pubs:
            p.join(timeout=60)
        stored = distinct_seq(influx.url, db)
        if stored != total:
            raise RuntimeError(f"InfluxDB holds {stored} distinct seq, {total} were published")
        rate = total / (done - started)
        return {"messages_per_s": round(rate), "points_per_s": round(rate),
                "field_values_per_s": round(rate * 3)}  # 2 quantities + seq per reading
    finally:
        for p in procs:
            p.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--publishers", type=int, default=2)
    args = parser.parse_args()
    total = args.messages - args.messages % args.publishers
    broker = MosquittoServer().start()
    influx = InfluxServer().start()
    workdir = Path(tempfile.mkdtemp(prefix="nzd-bench-ingest-"))
    try:
        bare = bare_rate(broker.port, total=total, publishers=args.publishers)
        one = ingest_rate(broker, influx, total=total, publishers=args.publishers, workers=1, workdir=workdir)
        two = ingest_rate(broker, influx, total=total, publishers=args.publishers, workers=2, workdir=workdir)
    finally:
        broker.close()
        influx.close()
    print(json.dumps({
        "benchmark": "ingest",
        "messages": total,
        "publishers": args.publishers,
        "bare_paho_subscriber_messages_per_s": round(bare),
        "ingest_1_worker": one,
        "ingest_2_workers": two,
        "ratio_1_worker_to_bare": round(one["messages_per_s"] / bare, 3),
        "ratio_2_workers_to_bare": round(two["messages_per_s"] / bare, 3),
        "goal_ratio_1_worker": 0.8,
    }))


if __name__ == "__main__":
    main()
