"""Ingest on a broker without shared subscriptions: the embedded amqtt of ``nzd demo``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nzd.store import SqliteStore
from tests.coordinator.ingest.support import T0, IngestProcess, publish_all, wait_until
from tests.harness import free_port


@pytest.fixture
def amqtt_port() -> Iterator[int]:
    """amqtt (MQTT 3.1.1 only) in a thread of its own, as the demo runs it."""
    from amqtt.broker import Broker

    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    brokers: list[Broker] = []

    async def start() -> None:
        # amqtt wants a running loop when it is built: build it inside the thread's loop.
        broker = Broker({
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
                        "amqtt.plugins.sys.broker.BrokerSysPlugin": {"sys_interval": 0}},
        })
        brokers.append(broker)
        await broker.start()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(timeout=30), "amqtt did not start"
    yield port
    asyncio.run_coroutine_threadsafe(brokers[0].shutdown(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def test_an_empty_share_group_subscribes_plainly_and_stores_everything(
    amqtt_port: int, ingest_factory: Callable[..., IngestProcess], tmp_path: Path,
) -> None:
    path = tmp_path / "nzd.sqlite"
    worker = ingest_factory(mqtt_port=amqtt_port, influx_url="", database="unused", sqlite_path=path,
                            share_group="", mqtt_protocol="3.1.1")
    wait_until(lambda: bool(worker.health().get("subscribed")), timeout_s=30, what="the subscription")
    publish_all(amqtt_port, publishers=2, per_publisher=250).join()
    wait_until(lambda: worker.health().get("written") == 500, timeout_s=60, what="500 readings")

    async def stored() -> int:
        store = SqliteStore(path=path)
        await store.open()
        series = await store.history(district="d1", quantities=["energy_import_wh"], start_ms=T0,
                                     end_ms=T0 + 10_000)
        await store.close()
        return sum(len(s.times_ms) for s in series)

    assert asyncio.run(stored()) == 500
