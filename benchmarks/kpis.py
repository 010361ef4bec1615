"""KPIs over long periods from the counter rollups against raw readings, one JSON line.

Starts its own InfluxDB (tests.harness), sets up the retention policies and the counter
rollups (``nzd store init``'s continuous queries, run here once over the whole range), and
writes ``--days`` of one grid meter's readings every ``--every-s`` seconds. Then the daily
KPIs of the whole period through ``api.energy.measured_kpis``:

- ``rollup_*``: past ``NZD_RAW_SPAN_H`` (48 h) the API reads each 15 minutes' first and
  last reading (the rollups);
- ``raw_*``: the baseline, every raw reading (the raw span set above the period);
- ``same_energy``: the daily energy agrees to 1e-9 relative (it must: readings keep
  their instants).

Usage: python benchmarks/kpis.py [--days 60] [--every-s 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from api.counters import counter_series  # noqa: E402
from api.energy import measured_kpis  # noqa: E402
from nzd.config import DistrictConfig  # noqa: E402
from nzd.messages import DeviceKind  # noqa: E402
from nzd.store import InfluxStore, Reading  # noqa: E402
from nzd.store.influx_http import InfluxHttp  # noqa: E402
from nzd.store.retention import RetentionPlan, apply_retention, bounds_rollup_selects  # noqa: E402
from tests.harness import InfluxServer  # noqa: E402

T0 = 1_735_686_000_000  # 2025-01-01T00:00 Europe/Rome
DAY = 86_400_000


async def run(url: str, *, days: int, every_s: int, repeats: int) -> dict[str, object]:
    db = f"kpis_{uuid.uuid4().hex[:6]}"
    http = InfluxHttp(url=url, database=db)
    await http.open()
    await apply_retention(http, RetentionPlan(database=db, raw_days=3650, downsampled_days=3700))
    await http.close()
    store = InfluxStore(url=url, database=db)
    await store.open()
    district = DistrictConfig.model_validate({"district": "bench", "sites": [
        {"id": "s1", "name": "S1", "meters": [{"device": "m1", "role": "grid"}]}]})
    rng = np.random.default_rng(1)
    n = days * DAY // (every_s * 1000)
    times = T0 + np.arange(n, dtype=np.int64) * every_s * 1000
    energy = 1e6 + np.cumsum(rng.uniform(0, 50_000, n) * every_s / 3600)
    batch = [Reading(district="bench", site="s1", device="m1", kind=DeviceKind.ELECTRICITY_METER,
                     ts_ms=int(t), seq=i, values={"energy_import_wh": float(e), "energy_export_wh": 0.0})
             for i, (t, e) in enumerate(zip(times, energy, strict=True))]
    for i in range(0, len(batch), 20_000):
        await store.write(batch[i:i + 20_000])
    where = f"time >= {T0 - DAY}ms AND time < {T0 + (days + 1) * DAY}ms"
    for select in bounds_rollup_selects(db, where=where).values():
        await store.http.query(select)
    out: dict[str, object] = {"benchmark": "kpis", "days": days, "readings": n, "every_s": every_s}
    results = {}
    for name, raw_span in (("rollup", 48 * 3_600_000), ("raw", (days + 1) * DAY)):
        found = await counter_series(store, district="bench", site="s1", quantities=["energy_import_wh"],
                                     devices=None, start_ms=T0, end_ms=T0 + days * DAY, raw_span_ms=raw_span)
        out[f"{name}_points_read"] = sum(len(r.times_ms) for r in found.values())
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            k = await measured_kpis(store, district, district.sites, start_ms=T0, end_ms=T0 + days * DAY,
                                    period="day", raw_span_ms=raw_span)
            runs.append(time.perf_counter() - t0)
        results[name] = k.kpis.sites.import_kwh[0]
        out[f"{name}_median_s"] = round(statistics.median(runs), 3)
        out[f"{name}_runs_s"] = [round(r, 3) for r in runs]
    await store.close()
    out["same_energy"] = bool(np.allclose(results["rollup"], results["raw"], rtol=1e-9, atol=0))
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--every-s", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = InfluxServer().start()
    try:
        print(json.dumps(asyncio.run(run(server.url, days=args.days, every_s=args.every_s,
                                         repeats=args.repeats))), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
