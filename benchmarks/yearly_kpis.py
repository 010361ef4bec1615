"""The yearly KPI request over a year of 15-minute data of many firms, one JSON line.

Starts its own InfluxDB (tests.harness), sets up the retention policies and the counter rollups
(``nzd store init``'s continuous queries, run here once over the whole year), and writes a year of
15-minute grid-meter counters (import and export) of ``--firms`` firms in bulk line protocol.
Then the district's yearly KPIs (``period=year``, what ``GET /district/kpis?period=year`` and the
targets' progress compute) through ``api.energy.measured_kpis``, and the rows the route answers
with (``api.routes.kpis``' row building, the public rule included):

- ``archive_*`` (``--repeats`` times, after one run not counted): as the API answers once its
  archive holds the closed days
  (api/energy_archive.py); ``archive_build_s`` is what filling it took (the API's background task
  does this after a start, a day at a time after that);
- ``rollup_*`` (``--baseline-repeats`` times): the same request without the archive; past
  ``NZD_RAW_SPAN_H`` (48 h) it reads the 15-minute rollups;
- ``raw_*``: the same request reading every raw reading (the raw span set above the year);
- ``same_energy``: the yearly energy of every firm agrees to 1e-9 relative in all three;
- ``goal_ms``: the issue's goal for the yearly request, 300 ms (reported, not asserted).

Usage: python benchmarks/yearly_kpis.py [--firms 50] [--days 365] [--repeats 30] [--baseline-repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from api.energy import archive_compute, measured_kpis  # noqa: E402
from api.energy_archive import EnergyArchive  # noqa: E402
from api.routes.kpis import _Periods  # noqa: E402
from nzd.clock import Clock, district_clock  # noqa: E402
from nzd.config import DistrictConfig  # noqa: E402
from nzd.store import InfluxStore  # noqa: E402
from nzd.store.influx_http import InfluxHttp  # noqa: E402
from nzd.store.retention import RetentionPlan, apply_retention, bounds_rollup_selects  # noqa: E402
from tests.harness import InfluxServer  # noqa: E402

T0 = 1_767_222_000_000  # 2026-01-01T00:00 Europe/Rome
DAY = 86_400_000
STEP = 900_000
CHUNK = 50_000


def _lines(site: str, times: np.ndarray, imp: np.ndarray, exp: np.ndarray) -> list[str]:
    head = f"electricity_meter,device=m1,district=bench,site={site}"
    return [f"{head} energy_import_wh={i!r},energy_export_wh={e!r},seq={k}i {t}"
            for k, (t, i, e) in enumerate(zip(times.tolist(), imp.tolist(), exp.tolist(), strict=True))]


def _percentile(runs: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(runs), q)) * 1000, 1)


async def run(url: str, *, firms: int, days: int, repeats: int, baseline_repeats: int) -> dict[str, object]:
    # The district's clock a day after the year, so that every day of it is closed.
    os.environ.update(Clock.simulated(start_ms=T0 + (days + 1) * DAY, origin_ms=None, speed=1.0).env())
    district_clock.cache_clear()
    assert district_clock().now_ms() > T0 + days * DAY
    db = f"yearly_{uuid.uuid4().hex[:6]}"
    http = InfluxHttp(url=url, database=db)
    await http.open()
    await apply_retention(http, RetentionPlan(database=db, raw_days=3650, downsampled_days=3700))
    district = DistrictConfig.model_validate({"district": "bench", "sites": [
        {"id": f"f{i:02d}", "name": f"Firm {i}", "meters": [{"device": "m1", "role": "grid"}]}
        for i in range(firms)]})
    rng = np.random.default_rng(1)
    n = days * DAY // STEP
    times = T0 + np.arange(n, dtype=np.int64) * STEP
    t_gen = time.perf_counter()
    written = 0
    for site in district.sites:
        imp = np.round(1e6 + np.cumsum(rng.uniform(0, 20_000, n)), 1)
        exp = np.round(5e5 + np.cumsum(rng.uniform(0, 2_000, n)), 1)
        lines = _lines(site.id, times, imp, exp)
        for i in range(0, len(lines), CHUNK):
            await http.write("\n".join(lines[i:i + CHUNK]).encode(), precision="ms")
        written += len(lines)
    write_s = time.perf_counter() - t_gen
    t_roll = time.perf_counter()
    for month in range(0, days, 31):  # month by month: one INTO over a year is one huge query
        lo, hi = T0 + month * DAY - DAY, T0 + min(month + 31, days + 1) * DAY
        for select in bounds_rollup_selects(db, where=f"time >= {lo}ms AND time < {hi}ms").values():
            await http.query(select)
    rollup_s = time.perf_counter() - t_roll
    await http.close()
    # A long timeout: the yearly reads are what is measured, however long they take.
    store = InfluxStore(url=url, database=db, timeout_s=600.0, retry_total_s=0.0)
    await store.open()
    out: dict[str, object] = {"benchmark": "yearly_kpis", "firms": firms, "days": days,
                              "readings": written, "step_minutes": 15, "write_s": round(write_s, 1),
                              "rollup_build_s": round(rollup_s, 1), "goal_ms": 300}
    totals = {}
    # The archive as the API holds it; "now" is a day after the year (the days are closed).
    archive = EnergyArchive(site_ids=[x.id for x in district.sites], timezone=district.timezone,
                            step_minutes=15, days=days + 2, close_after_s=0.0, settle_s=0.0)
    archive.set_live(True)
    compute = archive_compute(store, district, raw_span_ms=48 * 3_600_000)
    t_build = time.perf_counter()
    week = archive.closed_days(T0, T0 + days * DAY)
    for i in range(0, len(week), 7):
        await archive.energy(district.sites, week[i:i + 7], compute)
    out["archive_build_s"] = round(time.perf_counter() - t_build, 1)
    plans = (("archive", 48 * 3_600_000, archive, repeats),
             ("rollup", 48 * 3_600_000, None, baseline_repeats),
             ("raw", (days + 1) * DAY, None, baseline_repeats))
    for name, raw_span, kept, count in plans:
        runs = []
        for run_no in range(count + (1 if name == "archive" else 0)):
            t0 = time.perf_counter()
            k = await measured_kpis(store, district, district.sites, start_ms=T0, end_ms=T0 + days * DAY,
                                    period="year", raw_span_ms=raw_span, archive=kept)
            p = _Periods(k, tz=district.timezone, req_start_ms=T0, req_end_ms=T0 + days * DAY)
            rows = [(p.coverage(slice(None), i), p.has_data(slice(None), i)) for i in range(len(p.starts))]
            if name != "archive" or run_no > 0:  # the archive's first run warms the process up
                runs.append(time.perf_counter() - t0)
        assert rows
        totals[name] = k.kpis.sites.import_kwh[:, 0]
        out[f"{name}_p50_ms"] = _percentile(runs, 50)
        out[f"{name}_p99_ms"] = _percentile(runs, 99)
        out[f"{name}_runs"] = len(runs)
    out["archive_vs_rollup"] = round(float(out["rollup_p50_ms"]) / float(out["archive_p50_ms"]), 1)  # type: ignore[arg-type]
    out["archive_computed_site_days"] = archive.computed_days
    await store.close()
    out["same_energy"] = all(bool(np.allclose(totals[a], totals["raw"], rtol=1e-9, atol=0))
                             for a in ("archive", "rollup"))
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--baseline-repeats", type=int, default=2,
                        help="runs without the archive (each takes a minute or more for 50 firms)")
    args = parser.parse_args()
    server = InfluxServer().start()
    try:
        result = asyncio.run(run(server.url, firms=args.firms, days=args.days, repeats=args.repeats,
                                 baseline_repeats=args.baseline_repeats))
        print(json.dumps(result), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
