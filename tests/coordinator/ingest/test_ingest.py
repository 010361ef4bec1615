"""nzd ingest end to end: simulated publishers -> real Mosquitto -> ingest process -> real influxd."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from coordinator.ingest import DEADLETTER_TOPIC
from nzd.cli import app
from nzd.messages import DeviceKind, Quality, Telemetry, encode
from nzd.store import InfluxStore, Reading, SqliteStore
from nzd.topics import telemetry_topic
from tests.coordinator.ingest.support import (
    T0,
    IngestProcess,
    distinct_seq,
    publish,
    publish_all,
    wait_until,
)
from tests.harness import InfluxServer, MosquittoServer

TOTAL = 20_000
PUBLISHERS = 4


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_every_published_reading_is_stored(
    mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
    ingest_factory: Callable[..., IngestProcess], protocol: str,
) -> None:
    broker = mosquitto_factory()
    db = f"ingest_{uuid.uuid4().hex[:8]}"
    worker = ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db,
                            mqtt_protocol=protocol)
    publish_all(broker.port, publishers=PUBLISHERS, per_publisher=TOTAL // PUBLISHERS).join()
    wait_until(lambda: distinct_seq(influxdb.url, db) >= TOTAL, timeout_s=60, what="20,000 readings")
    assert distinct_seq(influxdb.url, db) == TOTAL
    assert worker.metric("nzd_ingest_written_total") >= TOTAL
    assert worker.metric("nzd_ingest_invalid_total") == 0
    assert worker.health()["healthy"] is True
    worker.stop()  # SIGTERM: a clean exit
    assert worker.proc is not None and worker.proc.returncode == 0, worker.log()


def test_invalid_payloads_are_dead_lettered_and_do_not_block(
    mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
    ingest_factory: Callable[..., IngestProcess],
) -> None:
    broker = mosquitto_factory()
    db = f"ingest_{uuid.uuid4().hex[:8]}"
    worker = ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db)
    dead: list[dict[str, object]] = []
    got = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        dead.append(orjson.loads(msg.payload))
        if len(dead) == 2:
            got.set()

    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe(DEADLETTER_TOPIC, qos=1)
    sub.loop_start()
    try:
        topic = telemetry_topic(district="d1", site="s1", device="m1")
        good = Telemetry(ts=T0, seq=1, device="m1", kind=DeviceKind.ELECTRICITY_METER,
                         values={"active_power_w": 5.0}, quality={"energy_import_wh": Quality.COMM_ERROR},
                         replayed=True)
        wrong_device = Telemetry(ts=T0 + 1, seq=2, device="m2", kind=DeviceKind.ELECTRICITY_METER,
                                 values={"active_power_w": 6.0})
        wait_until(lambda: sub.is_connected(), timeout_s=10, what="the dead-letter subscriber")
        publish(broker.port, [(topic, b"{not json"), (topic, encode(wrong_device)), (topic, encode(good))])
        wait_until(lambda: distinct_seq(influxdb.url, db) == 1, timeout_s=30, what="the valid reading")
        assert got.wait(timeout=10)
    finally:
        sub.disconnect()
        sub.loop_stop()
    assert [d["topic"] for d in dead] == [topic, topic]
    assert dead[0]["payload"] == "{not json"
    assert "not valid JSON" in str(dead[0]["reason"])
    assert "differs from the topic" in str(dead[1]["reason"])
    assert worker.metric("nzd_ingest_invalid_total") == 2
    assert worker.metric("nzd_ingest_written_total") == 1

    async def latest() -> list[Reading]:
        store = InfluxStore(url=influxdb.url, database=db)
        await store.open()
        try:
            return await store.latest(district="d1")
        finally:
            await store.close()

    # Stored exactly as sent: the flag of the counter it could not read, and that it was replayed.
    [stored] = asyncio.run(latest())
    assert (stored.values, stored.quality, stored.replayed) == (
        {"active_power_w": 5.0}, {"energy_import_wh": "comm_error"}, True)


def test_ingest_into_the_embedded_sqlite_store(
    mosquitto_factory: Callable[..., MosquittoServer], ingest_factory: Callable[..., IngestProcess],
    tmp_path: Path,
) -> None:
    broker = mosquitto_factory()
    path = tmp_path / "nzd.sqlite"
    worker = ingest_factory(mqtt_port=broker.port, influx_url="", database="unused", sqlite_path=path)
    publish_all(broker.port, publishers=2, per_publisher=1000).join()
    wait_until(lambda: worker.health().get("written") == 2000, timeout_s=30, what="2,000 readings")

    async def stored() -> int:
        store = SqliteStore(path=path)
        await store.open()
        series = await store.history(district="d1", quantities=["energy_import_wh"], start_ms=T0,
                                     end_ms=T0 + 10_000)
        await store.close()
        return sum(len(s.times_ms) for s in series)

    assert asyncio.run(stored()) == 2000


def test_readings_the_store_refuses_are_dead_lettered_and_the_rest_stored(
    mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
    ingest_factory: Callable[..., IngestProcess], monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker = mosquitto_factory()
    db = f"ingest_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NZD_INFLUX_URL", influxdb.url)
    monkeypatch.setenv("NZD_INFLUX_DATABASE", db)
    assert CliRunner().invoke(app, ["store", "init", "--raw-days", "1"]).exit_code == 0
    worker = ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db)
    dead: list[dict[str, object]] = []
    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    sub.on_message = lambda client, userdata, msg: dead.append(orjson.loads(msg.payload))
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe(DEADLETTER_TOPIC, qos=1)
    sub.loop_start()
    try:
        now_ms = int(time.time() * 1000)
        # Ten current readings and, in the same batch, two older than the 1-day raw retention.
        messages = [
            (telemetry_topic(district="d1", site="s1", device="m1"),
             encode(Telemetry(ts=ts, seq=seq, device="m1", kind=DeviceKind.ELECTRICITY_METER,
                              values={"active_power_w": 1.0})))
            for seq, ts in [*((i, now_ms - i) for i in range(10)), (10, T0), (11, T0 + 1)]
        ]
        wait_until(lambda: sub.is_connected(), timeout_s=10, what="the dead-letter subscriber")
        publish(broker.port, messages)
        wait_until(lambda: len(dead) == 2, timeout_s=30, what="two dead letters")
    finally:
        sub.disconnect()
        sub.loop_stop()
    assert distinct_seq(influxdb.url, db) == 10
    assert all("beyond retention policy" in str(d["reason"]) for d in dead)
    assert worker.metric("nzd_ingest_rejected_total") == 2
    assert worker.metric("nzd_ingest_written_total") == 10
