"""Simulated publishers, ingest processes and InfluxDB counting for the ingest tests.

Also used by benchmarks/ingest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from nzd.messages import DeviceKind, Telemetry, encode
from nzd.topics import telemetry_topic
from tests.harness import free_port

T0 = 1_767_225_600_000
ROOT = Path(__file__).resolve().parents[3]


def payloads(*, publisher: int, count: int, seq_start: int) -> list[tuple[str, bytes]]:
    """``count`` meter readings of one simulated gateway; ``seq`` distinct across publishers."""
    out = []
    for i in range(count):
        seq = seq_start + i
        device = f"m{i % 5}"
        msg = Telemetry(ts=T0 + seq, seq=seq, device=device, kind=DeviceKind.ELECTRICITY_METER,
                        values={"active_power_w": float(i % 1000), "energy_import_wh": float(seq)})
        out.append((telemetry_topic(district="d1", site=f"site{publisher}", device=device), encode(msg)))
    return out


def publish(url_port: int, messages: list[tuple[str, bytes]], *, rate_per_s: float | None = None) -> None:
    """Publish at QoS 1 and wait until the broker has acknowledged every message."""
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", url_port)
    client.loop_start()
    try:
        infos = []
        started = time.monotonic()
        for i, (topic, payload) in enumerate(messages):
            infos.append(client.publish(topic, payload, qos=1))
            if rate_per_s and i % 100 == 99:
                ahead_s = (i + 1) / rate_per_s - (time.monotonic() - started)
                if ahead_s > 0:
                    time.sleep(ahead_s)
        for info in infos:
            info.wait_for_publish(timeout=120)
    finally:
        client.disconnect()
        client.loop_stop()


def publish_all(port: int, *, publishers: int, per_publisher: int,
                rate_per_s: float | None = None) -> threading.Thread:
    """Start ``publishers`` simulated gateways in threads; join the returned thread to wait."""
    batches = [payloads(publisher=p, count=per_publisher, seq_start=p * per_publisher)
               for p in range(publishers)]
    each_rate = rate_per_s / publishers if rate_per_s else None

    def run() -> None:
        threads = [threading.Thread(target=publish, args=(port, b), kwargs={"rate_per_s": each_rate})
                   for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def distinct_seq(influx_url: str, database: str) -> int:
    try:
        r = httpx.post(f"{influx_url}/query", timeout=10, params={
            "db": database, "q": 'SELECT count(distinct("seq")) FROM "electricity_meter"'})
    except httpx.HTTPError:
        return -1
    if r.status_code != 200:
        return -1
    series = r.json()["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def wait_until(check: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class IngestProcess:
    """``python -m nzd ingest`` as a subprocess with its own metrics port."""

    def __init__(self, *, mqtt_port: int, influx_url: str, database: str, client_id: str,
                 group: str, log_path: Path, sqlite_path: Path | None = None, **extra: str) -> None:
        self.metrics_port = free_port()
        self.log_path = log_path
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NZD_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "NZD_INFLUX_URL": influx_url,
            "NZD_INFLUX_DATABASE": database,
            "NZD_INGEST_CLIENT_ID": client_id,
            "NZD_INGEST_SHARE_GROUP": group,
            "NZD_INGEST_METRICS_PORT": str(self.metrics_port),
            "NZD_LOG_JSON": "false",
            "NZD_SQLITE_PATH": str(sqlite_path or log_path.with_suffix(".sqlite")),
            **{f"NZD_INGEST_{k.upper()}": v for k, v in extra.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> IngestProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "nzd", "ingest"], env=self.env, cwd=ROOT,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: self.health().get("subscribed") is True, timeout_s=30,
                   what=f"ingest to subscribe; log:\n{self.log()}")
        return self

    def health(self) -> dict[str, object]:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"ingest exited with {self.proc.returncode}:\n{self.log()}")
        try:
            r = httpx.get(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=2)
        except httpx.HTTPError:
            return {}
        doc: dict[str, object] = r.json()
        return doc

    def metric(self, name: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
