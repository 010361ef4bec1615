"""The gateway killed with SIGKILL while the broker is down loses nothing it had queued."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nzd.messages import GatewayState, GatewayStatus
from tests.gateway.service.support import ModbusThread, Subscriber, wait_until, write_gateway_config
from tests.harness import MosquittoServer

ROOT = Path(__file__).resolve().parents[3]


def start_gateway(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "nzd", "gateway", "run", str(config), "--log-json"],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def json_or_none(line: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def queued_seqs(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [int(r[0]) for r in conn.execute("SELECT seq FROM readings ORDER BY seq")]


@pytest.mark.slow
def test_sigkill_during_an_outage_then_restart_delivers_everything_queued(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    modbus = ModbusThread().start()
    broker = mosquitto_factory()
    config = write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port, meters=3)
    log = tmp_path / "gateway.log"
    sub = Subscriber(port=broker.port, topics=["nzd/v1/#"])
    gw = start_gateway(config, log)
    try:
        wait_until(lambda: len(sub.telemetry()) >= 6, timeout_s=30, what=f"telemetry; log: {log}")
        broker.stop()
        time.sleep(6)  # readings pile up on disk
        os.kill(gw.pid, signal.SIGKILL)
        gw.wait(timeout=10)
        queued = queued_seqs(tmp_path / "buffer.sqlite")
        assert len(queued) >= 3 * 4

        broker.start()
        # The will says offline: the broker saw the connection drop without a disconnect.
        gw = start_gateway(config, log)
        wait_until(lambda: {m.seq for m in sub.telemetry()} >= set(queued), timeout_s=60,
                   what="every reading queued before the kill")
        # seq went on from where the killed process left it.
        wait_until(lambda: max(m.seq for m in sub.telemetry()) > max(queued) + 3, timeout_s=30,
                   what="new readings after the restart")
        gw.send_signal(signal.SIGTERM)
        assert gw.wait(timeout=30) == 0
    finally:
        if gw.poll() is None:
            gw.kill()
            gw.wait(timeout=10)
        sub.close()
        modbus.close()

    replay_logged = [doc for doc in map(json_or_none, log.read_text().splitlines())
                     if doc and doc["msg"].startswith("replaying a backlog")]
    assert replay_logged and replay_logged[0]["level"] == "info"
    received = sub.telemetry()
    seqs = {m.seq for m in received}
    assert seqs == set(range(max(seqs) + 1)), "a reading is missing"
    assert all(m.replayed for m in received if m.seq in set(queued))
    statuses = sub.statuses()
    assert statuses[-1].state is GatewayState.OFFLINE
    assert any(s.state is GatewayState.ONLINE for s in statuses)


def test_a_killed_gateway_is_reported_offline_by_its_last_will(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    modbus = ModbusThread().start()
    broker = mosquitto_factory()
    config = write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port, meters=1)
    sub = Subscriber(port=broker.port, topics=["nzd/v1/+/+/+/status"])
    gw = start_gateway(config, tmp_path / "gateway.log")
    try:
        wait_until(lambda: any(s.state is GatewayState.ONLINE for s in sub.statuses()), timeout_s=30,
                   what="birth message")
        os.kill(gw.pid, signal.SIGKILL)
        gw.wait(timeout=10)
        wait_until(lambda: sub.statuses()[-1].state is GatewayState.OFFLINE, timeout_s=30,
                   what="the last will")
    finally:
        if gw.poll() is None:
            gw.kill()
            gw.wait(timeout=10)
        sub.close()
        modbus.close()
    will = sub.statuses()[-1]
    assert (will.gateway, will.reason) == ("gw-1", "connection lost")
    # Retained: whoever subscribes later learns that the gateway is offline.
    late = Subscriber(port=broker.port, client_id="late", topics=["nzd/v1/+/+/+/status"])
    try:
        wait_until(lambda: bool(late.snapshot()), timeout_s=10, what="retained status")
        assert late.snapshot()[-1][2] is True
        assert late.statuses()[-1].state is GatewayState.OFFLINE
    finally:
        late.close()


def test_the_last_will_of_a_killed_gateway_carries_the_counts_of_its_last_connect(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    modbus = ModbusThread().start()
    broker = mosquitto_factory()
    # Confirmations on and no ingest: every reading stays queued, so the count is not 0.
    config = write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port, meters=3,
                                  confirm=True)
    log = tmp_path / "gateway.log"
    sub = Subscriber(port=broker.port, topics=["nzd/v1/+/+/+/status"])
    gw = start_gateway(config, log)
    restarted_ms = 0

    def births() -> list[GatewayStatus]:
        return [s for s in sub.statuses() if s.state is GatewayState.ONLINE and s.ts > restarted_ms]

    def wills() -> list[GatewayStatus]:
        return [s for s in sub.statuses() if s.state is GatewayState.OFFLINE and s.ts >= restarted_ms]

    try:
        wait_until(lambda: bool(births()), timeout_s=30, what=f"birth; log: {log}")
        time.sleep(3)
        broker.stop()  # the gateway reconnects afterwards with a new will: the counts of that moment
        restarted_ms = time.time_ns() // 1_000_000
        broker.start()
        wait_until(lambda: bool(births()), timeout_s=30, what="the birth after the reconnect")
        os.kill(gw.pid, signal.SIGKILL)
        gw.wait(timeout=10)
        wait_until(lambda: bool(wills()), timeout_s=20, what="the last will")
    finally:
        if gw.poll() is None:
            gw.kill()
        sub.close()
        modbus.close()
    will, birth = wills()[-1], births()[0]
    assert will.reason == "connection lost"
    # Made just before the connect, the birth just after: the same count, give or take a poll.
    assert 0 < will.buffered <= birth.buffered
