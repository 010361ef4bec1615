"""The soak: one gateway invents 20,000 device and quantity names while the district runs.

Used by tests/security/test_soak.py (memory, dead letters, alert) and benchmarks/soak.py
(the p99 latencies of ``/sites/{site}/latest`` and ``/district/flows`` before and during the
flood, printed as one JSON line). The servers are started by the caller: a Mosquitto with the
shipped ACL, an influxd, ``nzd ingest`` and the API, all on loopback.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt

from nzd.topics import telemetry_topic
from tests.security.conftest import ACCOUNTS

DISTRICT = "prato-est"
RUNNING = ["tintoria-rossi", "logistica-prato"]
"""Sites whose gateways keep reporting normally during the flood."""
ATTACKER = "lanificio-bianchi"
ROUTES = {"latest": "/api/v1/sites/tintoria-rossi/latest", "district_flows": "/api/v1/district/flows"}


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _client(port: int, site: str) -> mqtt.Client:
    user = f"{DISTRICT}/{site}"
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user)
    client.username_pw_set(user, ACCOUNTS[user])
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    return client


def flood(port: int, names: int) -> None:
    """``names`` readings from the attacker's gateway account, each a new device and quantity."""
    client = _client(port, ATTACKER)
    try:
        infos = []
        t0 = time.time_ns() // 1_000_000
        for i in range(names):
            device = f"fake-{i}"
            doc = {"ts": t0 + i, "seq": i, "device": device, "kind": "electricity_meter",
                   "values": {f"invented_{i}_w": 1.0}}
            infos.append(client.publish(telemetry_topic(district=DISTRICT, site=ATTACKER, device=device),
                                        orjson.dumps(doc), qos=1))
        for info in infos:
            info.wait_for_publish(timeout=120)
    finally:
        client.disconnect()
        client.loop_stop()


@dataclass
class Soak:
    broker_port: int
    api_url: str
    token: str
    influx_pid: int
    names: int = 20_000
    stop: threading.Event = field(default_factory=threading.Event)
    flooding: threading.Event = field(default_factory=threading.Event)
    latencies_ms: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """phase ("before", "during") -> route -> latencies."""
    errors: list[str] = field(default_factory=list)
    influx_rss_max: int = 0
    flood_s: float = 0.0

    def _district_runs(self) -> None:
        clients = {site: _client(self.broker_port, site) for site in RUNNING}
        seq = 0
        try:
            while not self.stop.is_set():
                seq += 1
                now = time.time_ns() // 1_000_000
                for site, c in clients.items():
                    doc = {"ts": now, "seq": seq, "device": "main-meter", "kind": "electricity_meter",
                           "values": {"active_power_w": 20_000.0 + seq % 100, "energy_import_wh": 1e6 + seq}}
                    c.publish(telemetry_topic(district=DISTRICT, site=site, device="main-meter"),
                              orjson.dumps(doc), qos=1)
                self.stop.wait(0.2)
        finally:
            for c in clients.values():
                c.disconnect()
                c.loop_stop()

    def _poll(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.api_url, headers=headers, timeout=10) as http:
            while not self.stop.is_set():
                phase = "during" if self.flooding.is_set() else "before"
                for name, path in ROUTES.items():
                    started = time.perf_counter()
                    try:
                        r = http.get(path)
                        ok = r.status_code == 200
                    except httpx.HTTPError as exc:
                        ok, r = False, None
                        self.errors.append(f"{name}: {exc!r}")
                    elapsed = (time.perf_counter() - started) * 1000
                    self.latencies_ms.setdefault(phase, {}).setdefault(name, []).append(elapsed)
                    if not ok and r is not None:
                        self.errors.append(f"{name}: HTTP {r.status_code} {r.text[:200]}")
                time.sleep(0.02)

    def _sample_memory(self) -> None:
        while not self.stop.is_set():
            self.influx_rss_max = max(self.influx_rss_max, rss_bytes(self.influx_pid))
            self.stop.wait(0.2)

    def _flood(self) -> None:
        """In a process of its own: the publisher must not take the GIL from the measurement."""
        proc = multiprocessing.get_context("fork").Process(target=flood, args=(self.broker_port, self.names))
        proc.start()
        proc.join(timeout=300)
        if proc.exitcode != 0:
            raise RuntimeError(f"the flood publisher failed (exit code {proc.exitcode})")

    def run(self, *, before_s: float = 3.0, after_s: float = 5.0,
            until_deadletters: int | None = None, timeout_s: float = 180.0) -> None:
        """Baseline for ``before_s``, then the flood; polls go on until the dead letters have
        reached the API (at least ``until_deadletters``) and ``after_s`` more."""
        threads = [threading.Thread(target=t, daemon=True)
                   for t in (self._district_runs, self._poll, self._sample_memory)]
        for t in threads:
            t.start()
        try:
            time.sleep(before_s)
            self.flooding.set()
            started = time.monotonic()
            self._flood()
            self.flood_s = time.monotonic() - started
            deadline = started + timeout_s
            while until_deadletters and time.monotonic() < deadline:
                if self.deadletters()["total"] >= until_deadletters:
                    break
                time.sleep(0.2)
            time.sleep(after_s)
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=15)

    def deadletters(self) -> dict[str, object]:
        r = httpx.get(f"{self.api_url}/api/v1/deadletters?limit=5", timeout=10,
                      headers={"Authorization": f"Bearer {self.token}"})
        r.raise_for_status()
        doc: dict[str, object] = r.json()
        return doc

    def alerts(self) -> list[dict[str, object]]:
        r = httpx.get(f"{self.api_url}/api/v1/alerts", timeout=10,
                      headers={"Authorization": f"Bearer {self.token}"})
        r.raise_for_status()
        alerts: list[dict[str, object]] = r.json()
        return alerts


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
