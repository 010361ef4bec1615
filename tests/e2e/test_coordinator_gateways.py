"""Acceptance: coordinator, gateways and simulated batteries over a real Mosquitto.

Every part runs as its own process, as on site: ``nzd simulate`` serves three
batteries over Modbus TCP, one ``nzd gateway run`` per site polls its battery and
applies setpoints, and ``nzd coordinator run`` plans with HiGHS every 3 s and dispatches setpoints
valid for two intervals. The test listens on the broker like any other client.

The tariff makes discharging now clearly worth it (export now at 0.59-0.60
EUR/kWh, recharge later at 0.05), so the first interval of every plan asks each
battery for its full 50 kW: a value the fallback (idle, 0 W) cannot be confused with.
A third site's gateway allows only 20 kW: it rejects, and the next plan holds it idle.
Finally a restarted coordinator's setpoints (new ids, no memory) are applied again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
import pytest
import yaml

from nzd.messages import Ack, AckResult, Setpoint, Telemetry, decode
from nzd.store import Event, EventKind, SqliteStore
from nzd.topics import TopicKind, parse_topic
from tests.harness import MosquittoServer, free_port, free_ports, wait_for_port

SITES = ("a", "b")
"""Sites whose gateway takes the full 50 kW."""
LIMITED = "c"
"""A site whose gateway allows only 20 kW: it rejects the plan's 50 kW and is excluded next time."""
ALL_SITES = (*SITES, LIMITED)
DISTRICT = "e2e"
BATTERY_PROFILE = {
    "manufacturer": "nzd tests",
    "model": "e2e battery",
    "document": {"title": "nzd e2e battery register map", "version": "1"},
    "kind": "battery",
    "addressing": {"datasheet": "protocol"},
    "defaults": {"table": "holding"},
    "points": [
        {"quantity": "battery_soc_pct", "address": 100, "type": "u16", "scale": 0.1},
        {"quantity": "battery_power_w", "address": 102, "type": "i32"},
        {"quantity": "battery_power_setpoint_w", "address": 110, "type": "i32",
         "write": {"min": -500000, "max": 500000}},
    ],
}
FULL_DISCHARGE_W = 50_000.0


def _prices(now_hour: int) -> tuple[list[float], list[float]]:
    """Import and export prices per local hour: this hour and the next are the expensive ones."""
    imp, exp = [0.05] * 24, [0.0] * 24
    for h, (i, e) in ((now_hour, (0.60, 0.60)), ((now_hour + 1) % 24, (0.59, 0.59))):
        imp[h], exp[h] = i, e
    return imp, exp


def _write_configs(tmp: Path, broker: MosquittoServer) -> dict[str, Path]:
    profile = tmp / "e2e_battery.yaml"
    profile.write_text(yaml.safe_dump(BATTERY_PROFILE))
    ports = dict(zip(ALL_SITES, free_ports(len(ALL_SITES)), strict=True))
    sim = {
        "simulator": {"speed": 1, "tick_s": 0.2, "seed": 1},
        "devices": [{"name": f"battery-{site}", "profile": str(profile),
                     "transport": {"type": "tcp", "host": "127.0.0.1", "port": ports[site]},
                     "battery": {"capacity_kwh": 100, "max_power_kw": 50, "soc_pct": 80},
                     "noise_pct": 0} for site in ALL_SITES],
    }
    paths = {"sim": tmp / "sim.yaml"}
    paths["sim"].write_text(yaml.safe_dump(sim))
    for site in ALL_SITES:
        limit_w = 20_000 if site == LIMITED else 50_000
        gw = {
            "gateway": f"gw-{site}", "district": DISTRICT, "site": site,
            "broker": {"host": broker.host, "port": broker.port, "keepalive_s": 5},
            "buffer": {"path": str(tmp / f"buffer-{site}.sqlite"), "confirm": False},  # no ingest here
            "devices": [{"name": "battery", "profile": str(profile),
                         "transport": {"type": "tcp", "host": "127.0.0.1", "port": ports[site]},
                         "poll_interval_s": 0.5, "timeout_s": 1}],
            "assets": [{"name": "battery", "device": "battery", "point": "battery_power_setpoint_w",
                        "min_value": -limit_w, "max_value": limit_w,
                        "fallback": {"value": 0, "description": "battery idle"}}],
        }
        paths[f"gw-{site}"] = tmp / f"gw-{site}.yaml"
        paths[f"gw-{site}"].write_text(yaml.safe_dump(gw, sort_keys=False))
    imp, exp = _prices(datetime.now(ZoneInfo("Europe/Rome")).hour)
    district = {
        "district": DISTRICT, "timezone": "Europe/Rome",
        "tariff": {"import_eur_per_kwh": imp, "export_eur_per_kwh": exp},
        "sites": [{"id": site, "name": f"Site {site}",
                   "batteries": [{"id": "battery", "capacity_kwh": 100, "charge_kw": 50, "discharge_kw": 50,
                                  "soc_initial_pct": 80, "device": "battery", "asset": "battery"}]}
                  for site in ALL_SITES],
    }
    paths["district"] = tmp / "district.yaml"
    paths["district"].write_text(yaml.safe_dump(district, sort_keys=False))
    paths["sim_ports"] = ports  # type: ignore[assignment]
    return paths


class Listener:
    """A plain MQTT client on the district's topics, as any third party would be."""

    def __init__(self, port: int) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[float, str, bytes]] = []
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-listener")
        self.client.on_connect = lambda c, *_: c.subscribe(f"nzd/v1/{DISTRICT}/#", qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise TimeoutError("the listener did not subscribe")

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((time.time(), msg.topic, bytes(msg.payload)))

    def of(self, kind: TopicKind, model: type[Any]) -> list[tuple[float, str, Any]]:
        with self.lock:
            msgs = list(self.messages)
        out = []
        for at, topic, payload in msgs:
            parsed = parse_topic(topic)
            if parsed.kind is kind:
                out.append((at, parsed.site, decode(payload, model)))
        return out

    def setpoints(self) -> list[tuple[float, str, Setpoint]]:
        return self.of(TopicKind.SETPOINT, Setpoint)

    def acks(self) -> list[tuple[float, str, Ack]]:
        return self.of(TopicKind.ACK, Ack)

    def telemetry(self) -> list[tuple[float, str, Telemetry]]:
        return self.of(TopicKind.TELEMETRY, Telemetry)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _listening(port: int) -> bool:
    try:
        wait_for_port(port, timeout_s=0.2)
    except TimeoutError:
        return False
    return True


def _last_readings(listener: Listener) -> dict[str, tuple[float, dict[str, float]]]:
    return {s: (at, t.values) for at, s, t in listener.telemetry()}


def _acks_since(listener: Listener, t: float) -> list[tuple[str, str, int | None, int]]:
    return [(s, a.result.value, a.setpoint_id, a.ts) for at, s, a in listener.acks() if at > t]


def _wait(check: Callable[[], bool], *, what: str | Callable[[], str], procs: list[subprocess.Popen[bytes]],
          timeout_s: float = 40.0) -> None:
    """Wait for ``check``; the timeout only bounds a hung test. A process that died is reported."""
    deadline = time.monotonic() + timeout_s
    while not check():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{p.args!r} exited with {p.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what if isinstance(what, str) else what()}")
        time.sleep(0.1)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.terminate()
    for i, p in enumerate(started):
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
        log = tmp_path / f"proc-{i}.log"
        if log.exists():
            sys.stderr.write(f"--- {p.args!r} ---\n{log.read_text(errors='replace')[-3000:]}\n")


def _spawn(procs: list[subprocess.Popen[bytes]], tmp: Path, argv: list[str],
           env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log = (tmp / f"proc-{len(procs)}.log").open("wb")
    p = subprocess.Popen([sys.executable, *argv], stdout=log, stderr=subprocess.STDOUT,
                         env={**os.environ, **(env or {})}, cwd=tmp)
    log.close()
    procs.append(p)
    return p


@pytest.mark.timeout(120)
def test_setpoints_reach_the_batteries_and_gateways_fall_back_when_the_coordinator_dies(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer],
        procs: list[subprocess.Popen[bytes]]) -> None:
    broker = mosquitto_factory()
    paths = _write_configs(tmp_path, broker)
    listener = Listener(broker.port)
    try:
        _spawn(procs, tmp_path, ["-m", "nzd", "simulate", str(paths["sim"]), "--log-level", "WARNING"])
        for port in paths["sim_ports"].values():  # type: ignore[attr-defined]
            _wait(partial(_listening, port), what=f"the simulator on port {port}", procs=procs)
        for site in ALL_SITES:
            _spawn(procs, tmp_path, ["-m", "nzd", "gateway", "run", str(paths[f"gw-{site}"])])
        _wait(lambda: {s for _, s, t in listener.telemetry() if "battery_soc_pct" in t.values}
              == set(ALL_SITES), what="battery readings from every gateway", procs=procs)

        metrics_port = free_port()
        coordinator_env = {
            "NZD_MQTT_URL": broker.url, "NZD_DISTRICT_FILE": str(paths["district"]),
            "NZD_PLANNING_INTERVAL_S": "3", "NZD_VALIDITY_INTERVALS": "2", "NZD_ACK_TIMEOUT_S": "5",
            "NZD_METRICS_PORT": str(metrics_port), "NZD_SQLITE_PATH": str(tmp_path / "nzd.sqlite"),
            "NZD_MQTT_CLIENT_ID": "e2e-coordinator", "NZD_LOG_JSON": "false",
        }
        coordinator = _spawn(procs, tmp_path, ["-m", "nzd", "coordinator", "run"], env=coordinator_env)

        # 1. Setpoints go out, are applied, and the simulated batteries follow them.
        def applied_everywhere() -> bool:
            sent = {(s, sp.id): sp for _, s, sp in listener.setpoints()}
            applied = {s for _, s, a in listener.acks()
                       if a.result is AckResult.APPLIED and a.setpoint_id is not None
                       and (s, a.setpoint_id) in sent and sent[(s, a.setpoint_id)].value == FULL_DISCHARGE_W}
            return applied >= set(SITES)

        _wait(applied_everywhere, what="full-discharge setpoints applied at both sites", procs=procs)
        t_applied = time.time()

        def discharging() -> bool:
            return {s for at, s, t in listener.telemetry() if at > t_applied
                    and t.values.get("battery_power_setpoint_w") == FULL_DISCHARGE_W
                    and t.values.get("battery_power_w", 0.0) > 0} >= set(SITES)

        _wait(discharging, what="both simulated batteries discharging at the setpoint", procs=procs)
        # The limited site refused 50 kW; the next plan held it idle, and it took that.
        def probed_after_rejection() -> bool:
            acks = {a.setpoint_id: a.result for _, s, a in listener.acks() if s == LIMITED}
            sent = [sp for _, s, sp in listener.setpoints() if s == LIMITED]
            rejected = [sp.id for sp in sent if acks.get(sp.id) is AckResult.REJECTED]
            return bool(rejected) and any(sp.id > rejected[0] and sp.value == 0.0
                                          and acks.get(sp.id) is AckResult.APPLIED for sp in sent)

        _wait(probed_after_rejection, what="the limited site rejected, then was held idle", procs=procs)
        wait_for_port(metrics_port)
        health = httpx.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=10)
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert health.status_code == 200, health.text
        assert health.json()["last_plan"]["status"] in ("optimal", "time_limit", "lp_fallback")
        assert 'nzd_coordinator_acks_total{result="applied"}' in metrics
        for _, _, sp in listener.setpoints():  # valid two intervals (counted from sending when late)
            assert sp.valid_from % 3000 == 0 and sp.valid_until - sp.valid_from >= 6000
            assert sp.valid_from <= sp.issued_at < sp.valid_until

        # 2. The coordinator dies without a word; each gateway falls back when validity ends.
        coordinator.send_signal(signal.SIGKILL)
        coordinator.wait(timeout=10)
        procs.remove(coordinator)
        killed_at = time.time()
        last_valid_until = {s: max(sp.valid_until for _, s2, sp in listener.setpoints() if s2 == s)
                            for s in SITES}

        def fell_back() -> dict[str, Ack]:
            return {s: a for at, s, a in listener.acks() if at > killed_at and a.result is AckResult.FALLBACK}

        _wait(lambda: set(fell_back()) >= set(SITES), procs=procs,
              what=lambda: f"a fallback at every gateway; acks since: {_acks_since(listener, killed_at)}")
        for site in SITES:
            ack = fell_back()[site]
            assert ack.asset == "battery" and ack.value == 0.0
            assert ack.ts >= last_valid_until[site]  # not before the last setpoint ran out
        # The limited site's last applied setpoint (idle) ends too, and its gateway says so.
        def limited_fell_back_after_its_last_setpoint() -> bool:
            sent = {sp.id: sp for _, s, sp in listener.setpoints() if s == LIMITED}
            applied = [sent[a.setpoint_id].valid_until for _, s, a in listener.acks()
                       if s == LIMITED and a.result is AckResult.APPLIED and a.setpoint_id in sent]
            return bool(applied) and any(a.result is AckResult.FALLBACK and a.ts >= max(applied)
                                         for _, s, a in listener.acks() if s == LIMITED)

        _wait(limited_fell_back_after_its_last_setpoint, what="the limited site's fallback", procs=procs)
        _wait(lambda: {s for at, s, t in listener.telemetry() if at > killed_at + 0.5
                       and t.values.get("battery_power_setpoint_w") == 0.0
                       and t.values.get("battery_power_w") == 0.0} >= set(SITES),
              what=lambda: f"both simulated batteries idle again; last readings: {_last_readings(listener)}",
              procs=procs)
        # 3. What the coordinator sent and heard is in the store, killed or not.
        stored = asyncio.run(_stored_events(tmp_path / "nzd.sqlite"))
        assert stored[EventKind.PLAN] and stored[EventKind.SETPOINT]
        assert {e.site for e in stored[EventKind.ACK] if e.document["result"] == "applied"} == set(ALL_SITES)
        # Every idle setpoint the limited site got came from a plan that had excluded it.
        excluded_in = {e.key: e.document["excluded"] for e in stored[EventKind.PLAN]}
        idle = [sp for _, s, sp in listener.setpoints() if s == LIMITED and sp.value == 0.0]
        assert idle and all(f"{LIMITED}/battery" in excluded_in[sp.plan_id] for sp in idle
                            if sp.plan_id in excluded_in)
        # 4. A restarted coordinator knows no ids, yet its setpoints are new to the gateways and applied.
        highest_id = max(sp.id for _, _, sp in listener.setpoints())
        _spawn(procs, tmp_path, ["-m", "nzd", "coordinator", "run"], env=coordinator_env)

        def applied_after_restart() -> set[str]:
            fresh = {(s, sp.id) for _, s, sp in listener.setpoints() if sp.id > highest_id}
            return {s for _, s, a in listener.acks()
                    if a.result is AckResult.APPLIED and (s, a.setpoint_id) in fresh}

        _wait(lambda: applied_after_restart() >= set(SITES), what="setpoints applied after a restart",
              procs=procs)
    finally:
        listener.close()


async def _stored_events(path: Path) -> dict[EventKind, list[Event]]:
    store = SqliteStore(path=path)
    await store.open()
    try:
        return {kind: await store.events(kind, district=DISTRICT)
                for kind in (EventKind.PLAN, EventKind.SETPOINT, EventKind.ACK)}
    finally:
        await store.close()
