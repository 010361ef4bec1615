"""End-to-end latency of a reading, one JSON line.

From the moment a gateway read a device's registers (the telemetry's ``ts``) to the moment the
reading arrives on the API's live stream (SSE), with 50 simulated devices polled once a second:
``nzd simulate`` (one Modbus TCP port per device, one simulator per gateway), five ``nzd gateway run``
of ten devices each,
a real Mosquitto (tests.harness) and ``nzd api``, every one its own process, as deployed. A client
logged in as the operator reads ``/api/v1/live`` and notes when each ``reading`` event arrives.

In the same run, on the same broker, the baseline: a plain paho client publishes 50 messages a
second (QoS 1, carrying their send time) to another plain paho client; ``broker_p50_ms`` and
``broker_p99_ms`` are what the broker and the machine's scheduling cost by themselves.

Latency includes the poll itself (ts is taken when the cycle starts reading), the gateway's disk
buffer (a reading is on disk before it is published) and the API's decode and fan-out.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: tests.harness lives in the tree

import httpx  # noqa: E402
import orjson  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
import yaml  # noqa: E402

from api.auth.users import hash_secret  # noqa: E402
from tests.harness import MosquittoServer, free_ports, wait_for_port  # noqa: E402

DISTRICT = "bench-e2e"
GOAL_P99_MS = 250.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def write_configs(tmp: Path, broker: MosquittoServer, *, devices: int, gateways: int, one_simulator: bool,
                  aligned: bool = False,
                  password: str) -> tuple[list[Path], list[Path], Path, Path, list[int]]:
    """Configs of one simulator per gateway (a factory floor each: the devices of different sites
    do not share a CPU in reality; ``one_simulator`` puts all in one process), the gateways, the
    district and the API users."""
    ports = free_ports(devices)
    per_gw = -(-devices // gateways)
    sims: list[Path] = []
    gw_paths: list[Path] = []
    sites = []
    for g in range(gateways):
        site = f"site-{g}"
        sites.append({"id": site, "name": f"Site {g}", "meters": [{"device": "meter-0", "role": "grid"}]})
        gw_devices = []
        sim_devices: list[dict[str, Any]] = []
        for i in range(g * per_gw, min(devices, (g + 1) * per_gw)):
            tcp = {"type": "tcp", "host": "127.0.0.1", "port": ports[i]}
            name = f"meter-{i - g * per_gw}"
            sim_devices.append({"name": f"{site}-{name}", "profile": "eastron_sdm630", "transport": tcp,
                                "load": {"profile": "g1", "annual_kwh": 300_000}})
            # Staggered (the default, as a site would configure it): each device of a gateway reads
            # at its own point of the second, so the devices do not queue for the CPU together.
            offset_s = 0.0 if aligned else round((i - g * per_gw) / per_gw, 3)
            gw_devices.append({"name": name, "profile": "eastron_sdm630", "transport": tcp,
                               "poll_interval_s": 1.0, "poll_offset_s": offset_s, "timeout_s": 1.0})
        gw = {"gateway": f"gw-{g}", "district": DISTRICT, "site": site,
              "broker": {"host": broker.host, "port": broker.port},
              "buffer": {"path": str(tmp / f"buffer-{g}.sqlite")}, "devices": gw_devices}
        path = tmp / f"gw-{g}.yaml"
        path.write_text(yaml.safe_dump(gw, sort_keys=False))
        gw_paths.append(path)
        sim = tmp / f"sim-{g}.yaml"
        sim.write_text(yaml.safe_dump({"simulator": {"speed": 1, "tick_s": 0.5}, "devices": sim_devices}))
        sims.append(sim)
    if one_simulator:
        every = [d for p in sims for d in yaml.safe_load(p.read_text())["devices"]]
        sims[0].write_text(yaml.safe_dump({"simulator": {"speed": 1, "tick_s": 0.5}, "devices": every}))
        sims = sims[:1]
    district = tmp / "district.yaml"
    district.write_text(yaml.safe_dump({"district": DISTRICT, "timezone": "Europe/Rome", "sites": sites,
                                        "tariff": {"import_eur_per_kwh": 0.25, "export_eur_per_kwh": 0.1}}))
    users = tmp / "users.yaml"
    users.write_text(yaml.safe_dump({"users": [{"username": "operator", "role": "operator",
                                                "password_hash": hash_secret(password)}]}))
    return sims, gw_paths, district, users, ports


class TelemetryTap:
    """A plain subscriber to the district's telemetry: when each reading reached the broker's clients,
    which splits the latency into the gateway's part and the API's part."""

    def __init__(self, port: int) -> None:
        self.arrived: dict[tuple[str, str, int], float] = {}
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-tap-{secrets.token_hex(3)}")
        self.client.on_connect = lambda c, *_: c.subscribe(f"nzd/v1/{DISTRICT}/+/+/telemetry", qos=0)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise TimeoutError("the telemetry tap did not subscribe")

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        now_ms = time.time() * 1000
        parts = msg.topic.split("/")
        data = orjson.loads(msg.payload)
        with self._lock:
            self.arrived[(parts[3], parts[4], data["seq"])] = now_ms

    def at(self, site: str, device: str, seq: int) -> float | None:
        with self._lock:
            return self.arrived.get((site, device, seq))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Baseline:
    """Plain paho publisher -> Mosquitto -> plain paho subscriber, QoS 1, 50 messages/s."""

    def __init__(self, port: int, *, rate_hz: float) -> None:
        self.latencies: list[float] = []
        self.rate_hz = rate_hz
        self._stop = threading.Event()
        self._measuring = threading.Event()
        topic = f"bench/e2e/{secrets.token_hex(3)}"
        self.topic = topic
        subscribed = threading.Event()
        self.sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{topic[-6:]}")
        self.sub.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.sub.on_subscribe = lambda *_: subscribed.set()
        self.sub.on_message = self._on_message
        self.sub.connect("127.0.0.1", port, keepalive=30)
        self.sub.loop_start()
        self.pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{topic[-6:]}")
        self.pub.connect("127.0.0.1", port, keepalive=30)
        self.pub.loop_start()
        if not subscribed.wait(10):
            raise TimeoutError("baseline subscriber did not subscribe")
        self._thread = threading.Thread(target=self._publish, daemon=True)
        self._thread.start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self._measuring.is_set():
            self.latencies.append(time.time() * 1000 - orjson.loads(msg.payload)["sent_ms"])

    def _publish(self) -> None:
        period = 1.0 / self.rate_hz
        next_at = time.monotonic()
        while not self._stop.is_set():
            payload = orjson.dumps({"sent_ms": time.time() * 1000, "pad": "x" * 400})  # a reading's size
            self.pub.publish(self.topic, payload, qos=1)
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))

    def measure(self) -> None:
        self._measuring.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for c in (self.pub, self.sub):
            c.loop_stop()
            c.disconnect()


def read_live(url: str, token: str, *, warmup_s: float, duration_s: float, tap: TelemetryTap,
              on_measuring: Any) -> tuple[list[float], list[tuple[float, float]], set[str]]:
    """Latencies (ms) of ``reading`` events from the live stream, after ``warmup_s`` of readings, and
    the same split at the broker: (read -> broker's clients, broker's clients -> live stream)."""
    latencies: list[float] = []
    split: list[tuple[float, float]] = []
    seen: set[str] = set()
    first_at: float | None = None
    event = ""
    with httpx.stream("GET", f"{url}/api/v1/live", headers={"authorization": f"Bearer {token}"},
                      timeout=httpx.Timeout(10.0, read=30.0)) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            now_ms = time.time() * 1000
            if line.startswith("event: "):
                event = line[7:]
                continue
            if not line.startswith("data: ") or event != "reading":
                continue
            data = orjson.loads(line[6:])
            if first_at is None:
                first_at = time.monotonic()
            elapsed = time.monotonic() - first_at
            if elapsed < warmup_s:
                continue
            if not latencies:
                on_measuring()
            latencies.append(now_ms - data["ts"])
            if (at_broker := tap.at(data["site"], data["device"], data["seq"])) is not None:
                split.append((at_broker - data["ts"], now_ms - at_broker))
            seen.add(f"{data['site']}/{data['device']}")
            if elapsed >= warmup_s + duration_s:
                break
    return latencies, split, seen


def wait_started(port: int, procs: list[subprocess.Popen[bytes]], tmp: Path) -> None:
    """Until something listens on ``port``; a process that exited meanwhile is an error with its log."""
    deadline = time.monotonic() + 60
    while True:
        try:
            wait_for_port(port, timeout_s=0.5)
            return
        except TimeoutError:
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-1500:]}"
                                 for f in sorted(tmp.glob("*.log")))
                exited = [p.args for p in dead]
                raise RuntimeError(f"port {port} not listening; exited: {exited}\n{logs}") from None


def poll_cycle_mean_ms(ports: list[int]) -> float:
    """Mean Modbus poll cycle of every gateway (their Prometheus histograms): the part of the
    latency spent reading registers after ``ts`` was taken."""
    total_s, count = 0.0, 0.0
    for port in ports:
        for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
            if line.startswith("nzd_gateway_poll_cycle_seconds_sum"):
                total_s += float(line.split()[-1])
            elif line.startswith("nzd_gateway_poll_cycle_seconds_count"):
                count += float(line.split()[-1])
    return 1000 * total_s / count if count else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--gateways", type=int, default=5)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--one-simulator", action="store_true",
                        help="serve all devices from one simulator process (its request queue then "
                             "dominates the latency)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of readings not counted")
    parser.add_argument("--aligned", action="store_true",
                        help="read every device at the same instant of each second (no poll_offset_s)")
    args = parser.parse_args()

    broker = MosquittoServer().start()
    procs: list[subprocess.Popen[bytes]] = []
    baseline: Baseline | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="nzd-bench-e2e-") as d:
            tmp = Path(d)
            password = secrets.token_urlsafe(12)
            sims, gws, district, users, ports = write_configs(tmp, broker, devices=args.devices,
                                                             gateways=args.gateways, password=password,
                                                             one_simulator=args.one_simulator,
                                                             aligned=args.aligned)
            env = {**os.environ, "NZD_MQTT_URL": broker.url, "NZD_DISTRICT_FILE": str(district),
                   "NZD_SQLITE_PATH": str(tmp / "nzd.sqlite"), "NZD_USERS_FILE": str(users),
                   "NZD_LOG_JSON": "false", "NZD_LOG_LEVEL": "WARNING", "NZD_ACCESS_LOG": "false"}

            def spawn(name: str, *argv: str) -> None:
                log = (tmp / f"{name}.log").open("wb")
                procs.append(subprocess.Popen([sys.executable, "-m", "nzd", *argv], stdout=log,
                                              stderr=subprocess.STDOUT, env=env, cwd=tmp))
                log.close()

            for i, sim in enumerate(sims):
                spawn(f"simulator-{i}", "simulate", str(sim), "--log-level", "WARNING")
            for port in ports:
                wait_started(port, procs, tmp)
            # One pick, after the simulators listen: the API's port is none of the gateways' metrics ports.
            api_port, *metrics_ports = free_ports(1 + len(gws))
            for i, (gw, mport) in enumerate(zip(gws, metrics_ports, strict=True)):
                spawn(f"gateway-{i}", "gateway", "run", str(gw), "--metrics-port", str(mport))
            spawn("api", "api", "--port", str(api_port))
            wait_started(api_port, procs, tmp)
            url = f"http://127.0.0.1:{api_port}"
            login = {"username": "operator", "password": password}
            token = httpx.post(f"{url}/api/v1/auth/login", json=login, timeout=30).json()["access_token"]
            tap = TelemetryTap(broker.port)
            baseline = Baseline(broker.port, rate_hz=float(args.devices))
            latencies, split, seen = read_live(url, token, warmup_s=args.warmup, duration_s=args.duration,
                                               tap=tap, on_measuring=baseline.measure)
            tap.close()
            poll_mean_ms = poll_cycle_mean_ms(metrics_ports)
            baseline.close()
            broker_lat, baseline = baseline.latencies, None
            dead = [p.args for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"processes exited during the run: {dead}")
    finally:
        if baseline is not None:
            baseline.close()
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        broker.close()

    p99 = percentile(latencies, 99)
    to_broker = [a for a, _ in split]
    to_live = [b for _, b in split]
    print(json.dumps({
        "benchmark": "e2e_reading_to_live_stream",
        "devices": args.devices, "gateways": args.gateways, "simulators": len(sims), "poll_interval_s": 1.0,
        "polls": "aligned" if args.aligned else "staggered",
        "devices_seen": len(seen), "readings": len(latencies), "duration_s": args.duration,
        "readings_per_s": round(len(latencies) / args.duration, 1),
        "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(p99, 1),
        "max_ms": round(max(latencies), 1),
        "poll_cycle_mean_ms": round(poll_mean_ms, 1),
        "read_to_broker_p50_ms": round(percentile(to_broker, 50), 1),
        "read_to_broker_p99_ms": round(percentile(to_broker, 99), 1),
        "broker_to_live_p50_ms": round(percentile(to_live, 50), 1),
        "broker_to_live_p99_ms": round(percentile(to_live, 99), 1),
        "broker_messages": len(broker_lat),
        "broker_p50_ms": round(percentile(broker_lat, 50), 2),
        "broker_p99_ms": round(percentile(broker_lat, 99), 2),
        "goal_p99_ms": GOAL_P99_MS, "goal_met": p99 <= GOAL_P99_MS,
        "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
