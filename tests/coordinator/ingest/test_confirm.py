"""Ingest confirms to the gateways what the store has, and says unhealthy at the first failed write."""

from __future__ import annotations

import time
from collections.abc import Callable

from coordinator.ingest.confirm import seq_ranges
from nzd.messages import Confirm, decode
from nzd.topics import parse_topic
from tests.coordinator.ingest.support import IngestProcess, distinct_seq, payloads, publish, wait_until
from tests.gateway.service.support import Subscriber
from tests.harness import InfluxServer, MosquittoServer


def test_seq_ranges_merge_runs_and_duplicates() -> None:
    assert seq_ranges([7, 0, 1, 2, 5, 8, 2]) == [[0, 2], [5, 5], [7, 8]]
    assert seq_ranges([]) == []


def test_stored_readings_are_confirmed_per_device_and_a_failed_write_is_unhealthy_at_once(
        mosquitto_factory: Callable[..., MosquittoServer], influx_factory: Callable[..., InfluxServer],
        ingest_factory: Callable[..., IngestProcess]) -> None:
    broker = mosquitto_factory()
    influx = influx_factory()
    # Retries of one write would last a minute: health must not wait for them to run out.
    worker = ingest_factory(mqtt_port=broker.port, influx_url=influx.url, database="confirm",
                            store_retry_total_s="60")
    confirms = Subscriber(port=broker.port, client_id="gateway-watch", topics=["nzd/v1/d1/site0/confirm/+"])
    try:
        messages = payloads(publisher=0, count=200, seq_start=0)  # devices m0..m4, seq 0..199
        publish(broker.port, messages)
        wait_until(lambda: distinct_seq(influx.url, "confirm") == 200, timeout_s=30, what="200 stored")

        def confirmed() -> dict[str, set[int]]:
            out: dict[str, set[int]] = {}
            for topic, payload, _ in confirms.snapshot():
                c = decode(payload, Confirm)
                assert parse_topic(topic).name == c.device
                for first, last in c.ranges:
                    out.setdefault(c.device, set()).update(range(first, last + 1))
            return out

        expected = {f"m{d}": set(range(d, 200, 5)) for d in range(5)}
        wait_until(lambda: confirmed() == expected, timeout_s=10, what="every stored seq confirmed")
        # At most one message per device and second, each a compact set of ranges.
        per_device = [decode(p, Confirm) for _, p, _ in confirms.snapshot()]
        assert len(per_device) <= 5 * 4

        influx.stop()
        publish(broker.port, payloads(publisher=0, count=5, seq_start=200))
        started = time.monotonic()
        wait_until(lambda: worker.health().get("store_ok") is False, timeout_s=15,
                   what="unhealthy at the first failed write")
        assert time.monotonic() - started < 15 < 60
        assert worker.health()["healthy"] is False
        before = confirmed()
        time.sleep(1.5)
        assert confirmed() == before  # nothing stored, nothing confirmed
    finally:
        confirms.close()
