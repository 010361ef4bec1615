"""API throughput and history latency, one JSON line.

Starts its own InfluxDB and Mosquitto (tests.harness) and ``nzd api`` as a separate
process, writes 24 hours of 10-second readings for three devices of one site, then:
- ``latest_rps``: requests/s for a site's latest values, 16 concurrent clients, 5 s;
  ``store_latest_rps``: the store's own ``latest()`` at the same concurrency, the baseline;
- ``history_p50_ms`` / ``history_p99_ms``: a 24-hour history query (5-minute means) through the API;
- ``raw_influx_p50_ms`` / ``raw_influx_p99_ms``: the same InfluxQL query sent straight to InfluxDB,
  the baseline: the difference is what the API adds (auth, validation, JSON).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from api.auth import new_api_token  # noqa: E402
from nzd.messages import DeviceKind  # noqa: E402
from nzd.store import InfluxStore, Reading  # noqa: E402
from nzd.store.lineprotocol import quote_ident, quote_string  # noqa: E402
from tests.harness import InfluxServer, MosquittoServer, free_port  # noqa: E402

DISTRICT, SITE, DB = "prato-est", "tintoria-rossi", "bench_api"
DAY_MS = 86_400_000
STEP_MS = 10_000
HISTORY_RUNS = 100
LATEST_S = 5.0
CLIENTS = 16


async def seed(url: str, end_ms: int) -> None:
    store = InfluxStore(url=url, database=DB)
    await store.open()
    devices = [("main-meter", DeviceKind.ELECTRICITY_METER, "active_power_w"),
               ("pv-inverter", DeviceKind.PV_INVERTER, "pv_power_w"),
               ("intake-public", DeviceKind.WATER_FLOW_METER, "water_flow_m3h")]
    batch: list[Reading] = []
    for i, ts in enumerate(range(end_ms - DAY_MS, end_ms, STEP_MS)):
        for device, kind, q in devices:
            batch.append(Reading(DISTRICT, SITE, device, kind, ts, i, {q: 1000.0 + i % 360}))
        if len(batch) >= 5000:
            await store.write(batch)
            batch = []
    if batch:
        await store.write(batch)
    await store.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def latest_rps(url: str, token: str) -> float:
    done = 0
    stop = time.perf_counter() + LATEST_S
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as c:
        (await c.get(f"/api/v1/sites/{SITE}/latest")).raise_for_status()  # warm-up: token verified once
        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                r = await c.get(f"/api/v1/sites/{SITE}/latest")
                r.raise_for_status()
                done += 1
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        return done / (time.perf_counter() - t0)


async def store_latest_rps(url: str) -> float:
    """The baseline: the store's own latest() against InfluxDB, same concurrency, no HTTP API."""
    store = InfluxStore(url=url, database=DB)
    await store.open()
    done = 0
    stop = time.perf_counter() + LATEST_S

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await store.latest(district=DISTRICT, site=SITE)
            done += 1
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    rate = done / (time.perf_counter() - t0)
    await store.close()
    return rate


def timed(fn) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(HISTORY_RUNS):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    influx, mosquitto = InfluxServer().start(), MosquittoServer().start()
    work = Path(tempfile.mkdtemp(prefix="nzd-bench-api-"))
    token, token_hash = new_api_token("bench")
    users = work / "users.yaml"
    users.write_text(yaml.safe_dump({"users": [{"username": "bench", "role": "operator",
                                                "tokens": [{"id": "bench", "hash": token_hash}]}]}))
    end_ms = int(time.time() * 1000) // STEP_MS * STEP_MS
    asyncio.run(seed(influx.url, end_ms))
    port = free_port()
    env = {**os.environ, "NZD_INFLUX_URL": influx.url, "NZD_INFLUX_DATABASE": DB,
           "NZD_MQTT_URL": mosquitto.url, "NZD_USERS_FILE": str(users), "NZD_ACCESS_LOG": "false",
           "NZD_LOG_LEVEL": "WARNING",
           "NZD_DISTRICT_FILE": str(ROOT / "firmware_configs" / "examples" / "district.yaml")}
    proc = subprocess.Popen([sys.executable, "-m", "nzd", "api", "--port", str(port)], env=env, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nzd api did not start")
            time.sleep(0.1)
        rps = asyncio.run(latest_rps(url, token))
        store_rps = asyncio.run(store_latest_rps(influx.url))
        start_ms = end_ms - DAY_MS
        params = {"quantities": "active_power_w", "interval": "5m",
                  "from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_ms / 1000)),
                  "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end_ms / 1000))}
        kinds = ",".join(quote_ident(k.value) for k in DeviceKind)
        raw_q = (f'SELECT mean("active_power_w") AS "active_power_w" FROM {kinds} WHERE '
                 f'"district" = {quote_string(DISTRICT)} AND "site" = {quote_string(SITE)} '
                 f"AND time >= {start_ms}ms AND time < {end_ms}ms "
                 'GROUP BY time(300s), "site", "device" fill(none)')
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api, \
                httpx.Client(base_url=influx.url) as raw:
            first = api.get(f"/api/v1/sites/{SITE}/history", params=params).json()
            points = sum(len(s["times_ms"]) for s in first)
            api_ms = timed(lambda: api.get(f"/api/v1/sites/{SITE}/history", params=params).raise_for_status())
            raw_ms = timed(lambda: raw.get("/query", params={"db": DB, "q": raw_q, "epoch": "ms"})
                           .raise_for_status())
        print(json.dumps({
            "benchmark": "api",
            "latest_rps": round(rps, 1),
            "store_latest_rps": round(store_rps, 1),
            "latest_clients": CLIENTS,
            "history_points": points,
            "history_p50_ms": round(statistics.median(api_ms), 2),
            "history_p99_ms": round(percentile(api_ms, 99), 2),
            "raw_influx_p50_ms": round(statistics.median(raw_ms), 2),
            "raw_influx_p99_ms": round(percentile(raw_ms, 99), 2),
            "runs": HISTORY_RUNS,
        }))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        influx.close()
        mosquitto.close()


if __name__ == "__main__":
    main()
