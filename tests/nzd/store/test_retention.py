"""``nzd store init`` on the real influxd: policies, the 15-minute continuous query, events kept."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nzd.cli import app
from nzd.messages import DeviceKind
from nzd.store import Event, EventKind, InfluxStore, Reading
from nzd.store.base import Aggregation
from nzd.store.influx_http import InfluxHttp
from nzd.store.retention import DOWNSAMPLED_POLICY, RetentionPlan, apply_retention, downsample_select
from tests.harness import InfluxServer

T0 = 1_767_225_600_000
Q_MS = 900_000


def _policies(influx: InfluxServer, db: str) -> dict[str, tuple[str, bool]]:
    res: Any = influx.query(f'SHOW RETENTION POLICIES ON "{db}"')
    series = res["results"][0]["series"][0]
    cols = series["columns"]
    return {row[0]: (row[cols.index("duration")], row[cols.index("default")]) for row in series["values"]}


def test_store_init_sets_retention_and_downsampling(
    influxdb: InfluxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"init_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NZD_INFLUX_URL", influxdb.url)
    monkeypatch.setenv("NZD_INFLUX_DATABASE", db)
    runner = CliRunner()
    result = runner.invoke(app, ["store", "init", "--raw-days", "90", "--downsampled-years", "5"])
    assert result.exit_code == 0, result.output
    policies = _policies(influxdb, db)
    assert policies["raw"] == ("2160h0m0s", True)
    assert policies[DOWNSAMPLED_POLICY] == (f"{5 * 366 * 24}h0m0s", False)
    assert policies["nzd_events"] == ("0s", False)  # 0s: kept for good
    cqs: Any = influxdb.query("SHOW CONTINUOUS QUERIES")
    ours = [row for s in cqs["results"][0]["series"] if s["name"] == db for row in s.get("values", [])]
    assert sorted(row[0] for row in ours) == ["nzd_bounds_first_15m", "nzd_bounds_last_15m",
                                               "nzd_downsample_15m"]
    assert all("GROUP BY time(15m)" in row[1] for row in ours)

    # Again with other durations: changed in place, still the same continuous queries.
    result = runner.invoke(app, ["store", "init", "--raw-days", "30"])
    assert result.exit_code == 0, result.output
    assert _policies(influxdb, db)["raw"] == ("720h0m0s", True)
    cqs = influxdb.query("SHOW CONTINUOUS QUERIES")
    assert len([r for s in cqs["results"][0]["series"] if s["name"] == db for r in s.get("values", [])]) == 3


async def test_downsampling_query_and_event_policy_after_init(
    influxdb: InfluxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"init_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NZD_INFLUX_URL", influxdb.url)
    monkeypatch.setenv("NZD_INFLUX_DATABASE", db)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["store", "init"])
    assert result.exit_code == 0, result.output
    store = InfluxStore(url=influxdb.url, database=db)
    await store.open()
    assert store.events_retention_policy == "nzd_events"
    # Raw data older than the raw policy would be refused: use the last hour.
    t0 = (int(time.time() * 1000) // Q_MS - 4) * Q_MS
    await store.write([
        Reading(district="d1", site="s1", device="m1", kind=DeviceKind.ELECTRICITY_METER,
                ts_ms=t0 + i * 300_000, seq=i, values={"active_power_w": float(p)},
                # a flagged, replayed reading: its string and boolean fields must not upset mean(*)
                replayed=i == 1, quality={"energy_import_wh": "comm_error"} if i == 1 else {})
        for i, p in enumerate([10, 20, 60, 100])
    ])
    event = Event(kind=EventKind.KPI, district="d1", site="*", ts_ms=T0, key="k1", document={"x": 1})
    await store.write_events([event])
    assert await store.events(EventKind.KPI, district="d1") == [event]
    # What the continuous query does every 15 minutes, run here over a fixed range.
    await store.http.query(downsample_select(db, where=f"time >= {t0}ms AND time < {t0 + 2 * Q_MS}ms"))
    res = await store.http.query(
        f'SELECT "mean_active_power_w", "max_active_power_w", "min_active_power_w", "last_active_power_w" '
        f'FROM "{db}"."{DOWNSAMPLED_POLICY}"."electricity_meter" WHERE "device" = \'m1\'')
    assert res[0]["series"][0]["values"] == [
        [t0, 30.0, 60.0, 10.0, 60.0], [t0 + Q_MS, 100.0, 100.0, 100.0, 100.0]]
    raw_events: Any = influxdb.query(f'SELECT count("key") FROM "{db}"."nzd_events"."nzd_events"')
    assert raw_events["results"][0]["series"][0]["values"][0][1] == 1
    await store.close()


def test_store_init_on_sqlite_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NZD_INFLUX_URL", raising=False)
    monkeypatch.setenv("NZD_SQLITE_PATH", str(tmp_path / "sub" / "nzd.sqlite"))
    result = CliRunner().invoke(app, ["store", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sub" / "nzd.sqlite").exists()
    assert "SQLite store ready" in result.output


def test_store_init_reports_an_unreachable_influxdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NZD_INFLUX_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["store", "init", "--wait-s", "0.5"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "nzd store init failed" in result.output


async def test_long_history_reads_the_rollups_and_short_history_raw_readings(influxdb: InfluxServer) -> None:
    db = f"long_{uuid.uuid4().hex[:8]}"
    http = InfluxHttp(url=influxdb.url, database=db)
    await http.open()
    await apply_retention(http, RetentionPlan(database=db, raw_days=3650, downsampled_days=3700))
    await http.close()
    store = InfluxStore(url=influxdb.url, database=db, rollup_after_s=86_400)
    await store.open()
    t0 = 1_741_564_800_000  # 2025-03-10T00:00Z

    def readings(power_w: float) -> list[Reading]:
        return [Reading(district="d1", site="s1", device="m1", kind=DeviceKind.ELECTRICITY_METER,
                        ts_ms=t0 + i * 300_000, seq=i, values={"active_power_w": power_w})
                for i in range(3 * 288)]  # three days, every 5 minutes

    try:
        await store.write(readings(10.0))
        span = f"time >= {t0}ms AND time < {t0 + 3 * 86_400_000}ms"
        await store.http.query(downsample_select(db, where=span))
        await store.write(readings(99.0))  # raw readings changed after the rollup was made
        kwargs = {"district": "d1", "site": "s1", "quantities": ["active_power_w"], "every_s": 3600,
                  "aggregation": Aggregation.MEAN}
        long = await store.history(start_ms=t0, end_ms=t0 + 3 * 86_400_000, **kwargs)  # type: ignore[arg-type]
        short = await store.history(start_ms=t0, end_ms=t0 + 86_400_000, **kwargs)  # type: ignore[arg-type]
    finally:
        await store.close()
    assert len(long[0].times_ms) == 72 and set(long[0].values["active_power_w"]) == {10.0}
    assert len(short[0].times_ms) == 24 and set(short[0].values["active_power_w"]) == {99.0}


def test_store_backfill_fills_the_rollups_of_data_stored_before_the_queries(
    influxdb: InfluxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readings stored before the continuous queries existed: after ``nzd store backfill`` the
    rollups give each quarter hour's first and last reading and the means, as the queries would."""
    db = f"backfill_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NZD_INFLUX_URL", influxdb.url)
    monkeypatch.setenv("NZD_INFLUX_DATABASE", db)
    runner = CliRunner()
    assert runner.invoke(app, ["store", "init", "--raw-days", "3650"]).exit_code == 0
    # Two days in January 2026, a reading every 5 minutes: 1 kWh each (12 kWh per hour).
    readings = [Reading("d1", "s1", "m1", DeviceKind.ELECTRICITY_METER, T0 + k * 300_000, k,
                        {"energy_import_wh": 1000.0 * k, "active_power_w": 12_000.0}) for k in range(2 * 288)]

    async def write() -> None:
        store = InfluxStore(url=influxdb.url, database=db)
        await store.open()
        try:
            await store.write(readings)
        finally:
            await store.close()

    async def read() -> tuple[dict[int, float], dict[int, float]]:
        store = InfluxStore(url=influxdb.url, database=db, rollup_after_s=3600.0)  # means from the rollup
        await store.open()
        try:
            bounds = await store.counter_bounds(district="d1", site="s1", quantities=["energy_import_wh"],
                                                start_ms=T0, end_ms=T0 + 86_400_000, every_s=900)
            means = await store.history(district="d1", site="s1", device="m1", quantities=["active_power_w"],
                                        start_ms=T0, end_ms=T0 + 2 * 86_400_000, every_s=3600,
                                        aggregation=Aggregation.MEAN)
        finally:
            await store.close()
        b = bounds[0] if bounds else None
        return ({} if b is None else dict(zip(b.times_ms, b.values["energy_import_wh"], strict=True)),
                {t: v for s in means for t, v in zip(s.times_ms, s.values["active_power_w"], strict=True)})

    asyncio.run(write())
    assert asyncio.run(read())[0] == {}  # the continuous queries never ran over these days
    result = runner.invoke(app, ["store", "backfill", "--from", "2026-01-01", "--to", "2026-01-04"])
    assert result.exit_code == 0, result.output
    assert "POST /api/v1/ops/recompute?from=2026-01-01T00:00:00+01:00" in result.output
    bounds, means = asyncio.run(read())
    # Each quarter hour's first (:00, :15...) and last (:10, :25...) reading, at its own time.
    assert bounds[T0] == 0.0 and bounds[T0 + 600_000] == 2000.0 and bounds[T0 + 900_000] == 3000.0
    assert len(bounds) == 2 * 96
    assert len(means) == 48 and set(means.values()) == {12_000.0}
    bad = runner.invoke(app, ["store", "backfill", "--from", "2026-02-01", "--to", "2026-01-01"])
    assert bad.exit_code == 2 and "--from must be before --to" in bad.output
