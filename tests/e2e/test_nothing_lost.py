"""Acceptance of "nothing lost, end to end": every (device, seq) a gateway queues reaches InfluxDB.

Real Mosquitto (persisting to disk), real InfluxDB, ``nzd ingest`` as a process
with a shared subscription, the gateway service polling 10 Modbus meters at 1 Hz.
A reading leaves the gateway's disk only when ingest confirms the store has it, so
what the broker loses is sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.nothing_lost import Rig
from tests.harness import InfluxServer, MosquittoServer

AWAY_S = 15


@pytest.mark.slow
async def test_a_broker_restart_while_ingest_is_away_loses_nothing(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer) -> None:
    broker = mosquitto_factory()
    rig = await Rig.start(tmp_path, broker=broker, influx=influxdb)
    try:
        await rig.start_ingest()
        await rig.readings(30)
        await rig.all_stored(timeout_s=30, what="before ingest goes away")
        await rig.stop_ingest()              # its session (shared subscription) stays with the broker
        await rig.readings(20)
        await asyncio.to_thread(broker.stop)  # saved to disk on the way down
        await asyncio.to_thread(broker.start)
        await asyncio.sleep(AWAY_S)           # the gateway is back first and replays; ingest is away
        await rig.start_ingest()
        await rig.readings(20)
        await rig.all_stored(timeout_s=60, what="after ingest came back")
    finally:
        await rig.close()
    stored = rig.stored()
    assert set(rig.produced) == stored
    # Every seq the gateway allocated was queued: no gap, nothing dropped.
    assert sorted(seq for _, seq in rig.produced) == list(range(rig.service.buffer.next_seq))
    assert rig.service.buffer.count == 0  # all confirmed, so the clean shutdown emptied the queue
    assert rig.statuses()[-1].reason == "shutdown: everything delivered"


@pytest.mark.slow
async def test_broker_sigkills_with_ingest_healthy_and_with_influxdb_down_lose_nothing(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer],
        influx_factory: Callable[..., InfluxServer]) -> None:
    # The old shipped setting: a kill loses up to a minute of the broker's queues.
    broker = mosquitto_factory(extra=["autosave_interval 60"])
    influx = influx_factory()
    rig = await Rig.start(tmp_path, broker=broker, influx=influx)
    try:
        await rig.start_ingest(store_retry_total_s="2", retry_backoff_max_s="2")
        await rig.readings(30)
        await asyncio.to_thread(broker.kill)
        await asyncio.to_thread(broker.start)
        await rig.readings(30)
        await rig.all_stored(timeout_s=60, what="after a SIGKILL with ingest healthy")
        after_first = len(rig.produced)

        await asyncio.to_thread(influx.stop)
        await rig.readings(40)                 # held by ingest and the broker, unacknowledged
        await asyncio.to_thread(broker.kill)   # ... and gone with it
        await asyncio.to_thread(broker.start)
        await rig.readings(20)
        await asyncio.to_thread(influx.start)
        await rig.all_stored(timeout_s=90, what="after a SIGKILL with InfluxDB down")
        assert len(rig.produced) > after_first
    finally:
        await rig.close()
    assert set(rig.produced) == rig.stored()
    assert sorted(seq for _, seq in rig.produced) == list(range(rig.service.buffer.next_seq))
    assert rig.service.buffer.count == 0
