"""API throughput and latency per route under wrk, against a trivial route of the same app.

Starts its own InfluxDB and Mosquitto (tests.harness) and ``nzd api`` (one worker) as a
separate process, writes 30 days of 10-second readings for a site's grid meter, PV inverter
and water intake (counters and power) plus the last hour of the other sites' grid meters, then
runs wrk (Debian package ``wrk``) for ``DURATION_S`` per route at ``CONNECTIONS`` connections,
all with the same operator API token:

- ``trivial``: ``/api/v1/auth/me``, the ceiling: authentication, routing and JSON, no work;
  run right before each route, whose ratio is to that run (the load of a shared machine drifts);
- ``latest``: a site's latest values; ``district_flows``: the district's power flows;
- ``history_24h``: a 24-hour history (5-minute means of the grid power);
- ``kpis_month``: a month of daily KPIs for the site (the API reads the counter rollups past
  ``NZD_RAW_SPAN_H``, set up here as ``nzd store init`` does and filled once), at
  ``CONNECTIONS`` and at one connection (``kpis_month_1conn``: the request's own latency);
  ``district_kpis_month``: the same for the district. No reading arrives meanwhile, so these
  measure kept answers (docs/api.md, "KPI cache"); ``kpis_month_live``: the site's month while
  its three devices report over MQTT every 10 s (one reading each 3.3 s, as ingest publishes
  them in a live district). A reading changes only the time since its device's reading before
  last (api/reading_reach.py), so the month stays kept; the devices' first readings since the
  API started reach a week either side and drop it once: ``first_request_after_start_ms`` is
  the request that computes it again, timed before wrk runs.

One JSON line per route: requests/s, p50 and p99 (ms), the ratio to the trivial route and the
goal. Then ``latest_after_publish``: p50/p99 of the delay from publishing a reading over MQTT
to seeing it in ``/latest`` (polled every millisecond), and ``store_latest``: requests/s of
the store's own ``latest()`` without a lookback (how ``/latest`` was served before it was
kept in memory) and with the API's lookback, 16 concurrent asyncio clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
import yaml  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from api.auth import new_api_token  # noqa: E402
from nzd.config import load_district  # noqa: E402
from nzd.messages import DeviceKind, Telemetry, encode  # noqa: E402
from nzd.store import InfluxStore, Reading  # noqa: E402
from nzd.store.influx_http import InfluxHttp  # noqa: E402
from nzd.store.retention import RetentionPlan, apply_retention, bounds_rollup_selects  # noqa: E402
from nzd.topics import telemetry_topic  # noqa: E402
from tests.harness import InfluxServer, MosquittoServer, free_port  # noqa: E402

DISTRICT, SITE, DB = "prato-est", "tintoria-rossi", "bench_api"
DISTRICT_FILE = ROOT / "firmware_configs" / "examples" / "district.yaml"
OTHER_SITES = ("lanificio-bianchi", "logistica-prato", "depuratore")
DAY_MS = 86_400_000
DAYS = 30
STEP_MS = 10_000
CONNECTIONS = 16
DURATION_S = 6
PUBLISH_RUNS = 50
STORE_LATEST_S = 5.0
LOOKBACK_S = 3600

_WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"status_errors": %d, "socket_errors": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


async def seed(url: str, end_ms: int, *, step_ms: int = STEP_MS) -> int:
    # Retention policies and counter rollups as `nzd store init` sets them up; the continuous
    # queries' SELECTs run once over the seeded range below (data written before they existed).
    http = InfluxHttp(url=url, database=DB)
    await http.open()
    await apply_retention(http, RetentionPlan(database=DB, raw_days=3650, downsampled_days=3700))
    await http.close()
    store = InfluxStore(url=url, database=DB)
    await store.open()
    batch: list[Reading] = []
    written = 0
    start_ms = end_ms - DAYS * DAY_MS
    for i, ts in enumerate(range(start_ms, end_ms, step_ms)):
        power = 40_000.0 + (i % 360) * 50
        pv = max(0.0, 60_000.0 * (1 - abs((ts // 1000 % 86_400) - 43_200) / 21_600))
        batch += [
            Reading(DISTRICT, SITE, "main-meter", DeviceKind.ELECTRICITY_METER, ts, i,
                    {"active_power_w": power - pv, "energy_import_wh": 1e7 + i * power / 360,
                     "energy_export_wh": 1e5 + i * 0.5}),
            Reading(DISTRICT, SITE, "pv-inverter", DeviceKind.PV_INVERTER, ts, i,
                    {"pv_power_w": pv, "pv_energy_wh": 5e6 + i * pv / 360}),
            Reading(DISTRICT, SITE, "intake-public", DeviceKind.WATER_FLOW_METER, ts, i,
                    {"water_flow_m3h": 8.0, "water_volume_m3": 1000.0 + i * 8.0 / 360}),
        ]
        if end_ms - ts <= 3_600_000:
            batch += [Reading(DISTRICT, s, "main-meter", DeviceKind.ELECTRICITY_METER, ts, i,
                              {"active_power_w": 20_000.0 + k * 1000}) for k, s in enumerate(OTHER_SITES)]
        if len(batch) >= 15_000:
            await store.write(batch)
            written += len(batch)
            batch = []
    await store.write(batch)
    written += len(batch)
    where = f"time >= {start_ms - DAY_MS}ms AND time < {end_ms + DAY_MS}ms"
    for select in bounds_rollup_selects(DB, where=where).values():
        await store.http.query(select)
    await store.close()
    return written


def wrk(url: str, path: str, token: str, script: Path, *, connections: int = CONNECTIONS,
        duration_s: int = DURATION_S) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--timeout", "10s", "-s", str(script),
         "-H", f"Authorization: Bearer {token}", url + path],
        capture_output=True, text=True, timeout=duration_s + 60, check=True).stdout
    doc: dict[str, Any] = json.loads(next(ln for ln in out.splitlines() if ln.startswith("{")))
    # Errors (e.g. 503 when the store misses the API's deadline under load) are reported, not hidden.
    return {"rps": doc["requests"] / (doc["duration_us"] / 1e6), "p50_ms": doc["p50_us"] / 1000,
            "p99_ms": doc["p99_us"] / 1000, "errors": doc["status_errors"] + doc["socket_errors"]}


class LiveReadings:
    """The site's seeded devices reporting every ``STEP_MS`` over MQTT while a route is measured.

    The API drops what a device's first reading after its start may change (a week of archived
    days, api/energy_archive.py) and keeps nothing computed meanwhile for ``SETTLE_S``: that
    happens once after a start, so each device reports once and ``SETTLE_S`` passes first.
    """

    DEVICES = (("main-meter", DeviceKind.ELECTRICITY_METER, "active_power_w"),
               ("pv-inverter", DeviceKind.PV_INVERTER, "pv_power_w"),
               ("intake-public", DeviceKind.WATER_FLOW_METER, "water_flow_m3h"))
    SETTLE_S = 10.0
    """The API's NZD_KPI_CACHE_SETTLE_S (its default)."""

    def __init__(self, mqtt_port: int, *, on: bool) -> None:
        self.port, self.on = mqtt_port, on
        self.stop, self.started = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.seq = 10_000_000

    def __enter__(self) -> LiveReadings:
        if self.on:
            self.thread.start()
            self.started.wait(timeout=10)
            time.sleep(self.SETTLE_S + 1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.on:
            self.thread.join(timeout=10)

    def _publish(self, client: mqtt.Client, device: str, kind: DeviceKind, quantity: str) -> None:
        self.seq += 1
        message = Telemetry(ts=int(time.time() * 1000), seq=self.seq, device=device, kind=kind,
                            values={quantity: 1.0})
        client.publish(telemetry_topic(district=DISTRICT, site=SITE, device=device), encode(message), qos=1)

    def _run(self) -> None:
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        try:
            for device in self.DEVICES:  # each device's first reading
                self._publish(client, *device)
            self.started.set()
            while not self.stop.wait(STEP_MS / 1000 / len(self.DEVICES)):
                self._publish(client, *self.DEVICES[self.seq % len(self.DEVICES)])
        finally:
            client.disconnect()
            client.loop_stop()


def idle(url: str, token: str) -> None:
    """Wait until the API has served what wrk left in flight (computed KPI answers take seconds)."""
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            api.get("/api/v1/auth/me").raise_for_status()
            if time.perf_counter() - t0 < 0.02:
                return
            time.sleep(0.2)


def publish_delay_ms(url: str, token: str, mqtt_port: int) -> list[float]:
    """Publish a reading, poll /latest every millisecond until it shows; the delay of each run."""
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", mqtt_port)
    client.loop_start()
    topic = telemetry_topic(district=DISTRICT, site=SITE, device="bench-meter")
    delays = []
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as api:
            for seq in range(1, PUBLISH_RUNS + 1):
                message = Telemetry(ts=int(time.time() * 1000), seq=seq, device="bench-meter",
                                    kind=DeviceKind.ELECTRICITY_METER, values={"active_power_w": float(seq)})
                t0 = time.perf_counter()
                client.publish(topic, encode(message), qos=1)
                while True:
                    rows = api.get(f"/api/v1/sites/{SITE}/latest", params={"device": "bench-meter"}).json()
                    if rows and rows[0]["seq"] == seq:
                        break
                    if time.perf_counter() - t0 > 10:
                        raise RuntimeError("a published reading did not reach /latest within 10 s")
                    time.sleep(0.001)
                delays.append((time.perf_counter() - t0) * 1000)
    finally:
        client.disconnect()
        client.loop_stop()
    return delays


async def store_latest_rps(url: str, since_ms: int | None) -> float:
    store = InfluxStore(url=url, database=DB)
    await store.open()
    done = 0
    stop = time.perf_counter() + STORE_LATEST_S

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await store.latest(district=DISTRICT, site=SITE, since_ms=since_ms)
            done += 1
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    rate = done / (time.perf_counter() - t0)
    await store.close()
    return rate


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step-s", type=int, default=STEP_MS // 1000,
                        help="seconds between the seeded readings (a larger step seeds faster; the "
                             "cached KPI routes answer the same rows)")
    parser.add_argument("--duration-s", type=int, default=DURATION_S, help="wrk's run per route")
    parser.add_argument("--routes", default="", help="comma-separated route names to run (default: all; "
                                                     "the trivial route always runs before each)")
    parser.add_argument("--no-store", action="store_true",
                        help="skip the publish delay and the store's own latest() at the end")
    args = parser.parse_args()
    step_ms = args.step_s * 1000
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (scripts/test installs it)")
    influx, mosquitto = InfluxServer().start(), MosquittoServer().start()
    work = Path(tempfile.mkdtemp(prefix="nzd-bench-api-"))
    script = work / "report.lua"
    script.write_text(_WRK_SCRIPT)
    token, token_hash = new_api_token("bench")
    users = work / "users.yaml"
    users.write_text(yaml.safe_dump({"users": [{"username": "bench", "role": "operator",
                                                "tokens": [{"id": "bench", "hash": token_hash}]}]}))
    end_ms = int(time.time() * 1000) // step_ms * step_ms
    points = asyncio.run(seed(influx.url, end_ms, step_ms=step_ms))
    port = free_port()
    env = {**os.environ, "NZD_INFLUX_URL": influx.url, "NZD_INFLUX_DATABASE": DB,
           "NZD_MQTT_URL": mosquitto.url, "NZD_USERS_FILE": str(users), "NZD_ACCESS_LOG": "false",
           "NZD_LOG_LEVEL": "WARNING", "NZD_LATEST_LOOKBACK_S": str(LOOKBACK_S),
           "NZD_DISTRICT_FILE": str(DISTRICT_FILE)}
    proc = subprocess.Popen([sys.executable, "-m", "nzd", "api", "--port", str(port)], env=env, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).json().get("mqtt"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nzd api did not start")
            time.sleep(0.1)
        # The district's local days, as its firms count them (and as the archive of closed days
        # keeps them): the last 29 whole ones, all within the seeded readings.
        today = datetime.fromtimestamp(end_ms / 1000, ZoneInfo(load_district(DISTRICT_FILE).timezone)).date()
        month = {"from": (today - timedelta(days=DAYS - 1)).isoformat(), "to": today.isoformat(),
                 "period": "day"}
        day = {"quantities": "active_power_w", "interval": "5m", "device": "main-meter",
               "from": iso(end_ms - DAY_MS), "to": iso(end_ms)}
        routes: dict[str, tuple[str, dict[str, str], dict[str, float], int]] = {
            "latest": (f"/api/v1/sites/{SITE}/latest", {}, {"ratio": 0.5, "p99_ms": 20.0}, CONNECTIONS),
            "district_flows": ("/api/v1/district/flows", {}, {"ratio": 0.5, "p99_ms": 20.0}, CONNECTIONS),
            "history_24h": (f"/api/v1/sites/{SITE}/history", day, {}, CONNECTIONS),
            "kpis_month": (f"/api/v1/sites/{SITE}/kpis", month, {"p99_ms": 50.0}, CONNECTIONS),
            # One request at a time: the latency of the query itself, without queueing behind 15 others.
            "kpis_month_1conn": (f"/api/v1/sites/{SITE}/kpis", month, {"p99_ms": 50.0}, 1),
            "district_kpis_month": ("/api/v1/district/kpis", month, {"p99_ms": 50.0}, CONNECTIONS),
            "kpis_month_live": (f"/api/v1/sites/{SITE}/kpis", month, {"p99_ms": 50.0}, CONNECTIONS),
        }
        if args.routes:
            unknown = set(args.routes.split(",")) - set(routes)
            if unknown:
                raise SystemExit(f"unknown routes: {', '.join(sorted(unknown))}; known: {', '.join(routes)}")
            routes = {k: v for k, v in routes.items() if k in args.routes.split(",")}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            for path, params, _, _ in routes.values():  # every route answers, and its cache is warm
                api.get(path, params=params).raise_for_status()
            kpi_days = len(api.get(f"/api/v1/sites/{SITE}/kpis", params=month).json())
            history_points = sum(len(s["times_ms"]) for s in api.get(f"/api/v1/sites/{SITE}/history",
                                                                     params=day).json())
        trivial_path = "/api/v1/auth/me"
        common = {"benchmark": "api", "duration_s": args.duration_s, "workers": 1}
        month_size = {"days": kpi_days, "raw_points_per_device": DAYS * DAY_MS // step_ms}
        extra = {"kpis_month": month_size, "kpis_month_1conn": month_size, "district_kpis_month": month_size,
                 "kpis_month_live": month_size, "history_24h": {"points": history_points}}
        for name, (path, params, goal, connections) in routes.items():
            # The ceiling is measured right before each route: on a shared machine the load drifts.
            trivial = wrk(url, trivial_path, token, script, duration_s=args.duration_s)
            print(json.dumps({**common, "connections": CONNECTIONS, "route": "trivial", "path": trivial_path,
                              "before": name, "rps": round(trivial["rps"], 1),
                              "p50_ms": round(trivial["p50_ms"], 2), "p99_ms": round(trivial["p99_ms"], 2),
                              "errors": trivial["errors"]}))
            first: dict[str, float] = {}
            with LiveReadings(mosquitto.port, on=name == "kpis_month_live"):
                if name == "kpis_month_live":
                    # The devices' first readings since the API started dropped the month (and a
                    # week of archived days): the first request computes it again, once.
                    t0 = time.perf_counter()
                    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                      timeout=60) as api:
                        api.get(path, params=params).raise_for_status()
                    first["first_request_after_start_ms"] = round((time.perf_counter() - t0) * 1000, 1)
                result = wrk(url, path + ("?" + str(httpx.QueryParams(params)) if params else ""),
                             token, script, connections=connections, duration_s=args.duration_s)
            ratio = result["rps"] / trivial["rps"]
            met = (ratio >= goal.get("ratio", 0.0) and result["p99_ms"] < goal.get("p99_ms", float("inf"))
                   and not result["errors"])
            print(json.dumps({**common, "connections": connections, "route": name, "path": path,
                              "rps": round(result["rps"], 1), "p50_ms": round(result["p50_ms"], 2),
                              "p99_ms": round(result["p99_ms"], 2), "errors": result["errors"],
                              "ratio_to_trivial": round(ratio, 3), **extra.get(name, {}), **first,
                              "goal": goal or None, "goal_met": met if goal else None}))
            idle(url, token)
        if args.no_store:
            return
        delays = publish_delay_ms(url, token, mosquitto.port)
        print(json.dumps({"benchmark": "api", "route": "latest_after_publish", "runs": PUBLISH_RUNS,
                          "p50_ms": round(statistics.median(delays), 2),
                          "p99_ms": round(percentile(delays, 99), 2), "max_ms": round(max(delays), 2),
                          "goal": {"p99_ms": 100.0}, "goal_met": percentile(delays, 99) < 100.0}))
        since_ms = int(time.time() * 1000) - LOOKBACK_S * 1000
        print(json.dumps({"benchmark": "api", "route": "store_latest", "clients": CONNECTIONS,
                          "points": points, "retention_days": DAYS, "lookback_s": LOOKBACK_S,
                          "unbounded_rps": round(asyncio.run(store_latest_rps(influx.url, None)), 1),
                          "lookback_rps": round(asyncio.run(store_latest_rps(influx.url, since_ms)), 1)}))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        influx.close()
        mosquitto.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
