"""Nothing is lost when InfluxDB is down, when ingest is killed, and with two workers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from tests.coordinator.ingest.support import IngestProcess, distinct_seq, publish_all, wait_until
from tests.harness import InfluxServer, MosquittoServer

TOTAL = 20_000
PUBLISHERS = 4
OUTAGE_S = 60


def test_nothing_is_lost_while_influxdb_is_stopped_for_a_minute(
    mosquitto_factory: Callable[..., MosquittoServer], influx_factory: Callable[..., InfluxServer],
    ingest_factory: Callable[..., IngestProcess],
) -> None:
    broker = mosquitto_factory()
    influx = influx_factory()
    db = "outage"
    backlog_limit = 2000
    worker = ingest_factory(mqtt_port=broker.port, influx_url=influx.url, database=db,
                            max_backlog=str(backlog_limit), store_retry_total_s="2",
                            retry_backoff_max_s="2")
    publishing = publish_all(broker.port, publishers=PUBLISHERS, per_publisher=TOTAL // PUBLISHERS,
                             rate_per_s=2000)
    wait_until(lambda: distinct_seq(influx.url, db) >= 4000, timeout_s=60, what="the first readings")
    influx.stop()
    stopped_at = time.monotonic()
    wait_until(lambda: worker.health().get("store_ok") is False, timeout_s=30,
               what="ingest to notice the outage")
    publishing.join()  # the rest of the stream arrives during the outage
    max_backlog = 0.0
    while time.monotonic() - stopped_at < OUTAGE_S:
        health = worker.health()
        assert health["healthy"] is False
        max_backlog = max(max_backlog, float(str(health["backlog"])))
        time.sleep(1)
    assert 0 < max_backlog <= backlog_limit
    influx.start()
    wait_until(lambda: distinct_seq(influx.url, db) >= TOTAL, timeout_s=90,
               what="all readings after the outage")
    assert distinct_seq(influx.url, db) == TOTAL
    assert worker.metric("nzd_ingest_retries_total") > 0
    wait_until(lambda: worker.health().get("healthy") is True, timeout_s=10, what="ingest to be healthy")


def test_nothing_is_lost_when_ingest_is_killed_and_restarted(
    mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
    ingest_factory: Callable[..., IngestProcess],
) -> None:
    broker = mosquitto_factory()
    db = f"kill_{uuid.uuid4().hex[:8]}"
    first = ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db, client_id="ingest-k")
    publishing = publish_all(broker.port, publishers=PUBLISHERS, per_publisher=TOTAL // PUBLISHERS,
                             rate_per_s=4000)
    wait_until(lambda: distinct_seq(influxdb.url, db) >= 5000, timeout_s=60, what="the first readings")
    first.kill()  # SIGKILL: whatever it had not acknowledged stays with the broker
    stored_at_kill = distinct_seq(influxdb.url, db)
    time.sleep(1)
    ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db, client_id="ingest-k")
    publishing.join()
    wait_until(lambda: distinct_seq(influxdb.url, db) >= TOTAL, timeout_s=60,
               what="all readings after the restart")
    assert stored_at_kill < TOTAL
    assert distinct_seq(influxdb.url, db) == TOTAL


def test_two_workers_split_the_stream_and_lose_nothing(
    mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
    ingest_factory: Callable[..., IngestProcess],
) -> None:
    broker = mosquitto_factory()
    db = f"two_{uuid.uuid4().hex[:8]}"
    a = ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db, client_id="ingest-a")
    b = ingest_factory(mqtt_port=broker.port, influx_url=influxdb.url, database=db, client_id="ingest-b")
    publish_all(broker.port, publishers=PUBLISHERS, per_publisher=TOTAL // PUBLISHERS).join()
    wait_until(lambda: distinct_seq(influxdb.url, db) >= TOTAL, timeout_s=60, what="20,000 readings")
    assert distinct_seq(influxdb.url, db) == TOTAL
    written_a = a.metric("nzd_ingest_written_total")
    written_b = b.metric("nzd_ingest_written_total")
    assert written_a > 0 and written_b > 0
    assert written_a + written_b >= TOTAL
