"""nzd ingest end to end: simulated publishers -> real Mosquitto -> ingest process -> real influxd."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from coordinator.ingest import DEADLETTER_TOPIC
from nzd.messages import DeviceKind, Telemetry, encode
from nzd.store import SqliteStore
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
                         values={"active_power_w": 5.0})
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
