"""Energy from counters does not depend on the window or the resolution it is read at.

Six days of one meter's readings at irregular times (a few seconds to two minutes apart, two
gaps, flat hours) are written to real InfluxDB and SQLite stores; InfluxDB's rollups are filled
by the continuous queries' own SELECT ... INTO. For random windows and resolutions (raw, the
first and last reading of each 15 minutes, hour or day), hourly and daily energy equal the
energy computed from every reading, to 1e-9 relative.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.counters import counter_series
from nzd.accounting.counters import counter_intervals
from nzd.messages import DeviceKind
from nzd.store import Reading
from nzd.store.base import TelemetryStore
from nzd.store.influx import InfluxStore
from nzd.store.influx_http import InfluxHttp
from nzd.store.retention import RetentionPlan, apply_retention, bounds_rollup_selects
from nzd.store.sqlite import SqliteStore
from tests.harness.servers import InfluxServer

H = 3_600_000
DAY = 24 * H
T0 = 1_741_564_800_000  # 2025-03-10T00:00Z
DAYS = 6
Q = "energy_import_wh"


def _readings() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(14)
    times, t = [], T0 - 3 * H
    while t < T0 + DAYS * DAY + 3 * H:
        times.append(t)
        t += int(rng.integers(5_000, 120_000))
    ts = np.asarray(times, dtype=np.int64)
    keep = ~(((ts > T0 + 30 * H) & (ts < T0 + 32 * H + 17 * 60_000))      # a gap of over two hours
             | ((ts > T0 + 77 * H + 5 * 60_000) & (ts < T0 + 77 * H + 40 * 60_000)))  # and one of 35 min
    ts = ts[keep]
    power_w = rng.uniform(0, 90_000, ts.size)
    power_w[(ts > T0 + 50 * H) & (ts < T0 + 53 * H)] = 0.0  # flat hours: the counter stands still
    steps = np.diff(ts, prepend=ts[0]) / H * power_w
    return ts, np.round(5_000_000.0 + np.cumsum(steps), 1)


TIMES, VALUES = _readings()


def _reading(i: int) -> Reading:
    return Reading(district="d1", site="s1", device="m1", kind=DeviceKind.ELECTRICITY_METER,
                   ts_ms=int(TIMES[i]), seq=i, values={Q: float(VALUES[i]), "energy_export_wh": 0.0})


def _reference(edges: np.ndarray) -> np.ndarray:
    return counter_intervals(TIMES, VALUES, edges).amount


async def _energy(store: TelemetryStore, start_ms: int, end_ms: int, every_s: int | None,
                  step_ms: int) -> np.ndarray:
    found = await counter_series(store, district="d1", site="s1", quantities=[Q], devices=None,
                                 start_ms=start_ms, end_ms=end_ms, every_s=every_s)
    r = found[("s1", "m1", Q)]
    if every_s is not None:  # the bounds of each bucket, and the two readings around the window
        assert len(r.times_ms) <= 2 * -(-(end_ms - start_ms) // (every_s * 1000)) + 2 + 2
    if isinstance(store, InfluxStore):
        assert store.rollup_policy == "downsampled_15m"
    edges = np.arange(start_ms, end_ms + 1, step_ms)
    return counter_intervals(r.times_ms, r.values, edges).amount


@pytest.fixture(scope="module")
def stores(influxdb: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, Callable[[], TelemetryStore]]]:
    db = f"windows_{uuid.uuid4().hex[:8]}"
    path = Path(tmp_path_factory.mktemp("windows")) / "nzd.sqlite"

    async def fill() -> None:
        http = InfluxHttp(url=influxdb.url, database=db)
        await http.open()
        await apply_retention(http, RetentionPlan(database=db, raw_days=3650, downsampled_days=3700))
        await http.close()
        influx = InfluxStore(url=influxdb.url, database=db)
        sqlite = SqliteStore(path=path)
        for s in (influx, sqlite):
            await s.open()
            await s.write([_reading(i) for i in range(TIMES.size)])
        # What the continuous queries do every 15 minutes, over the whole range at once.
        where = f"time >= {T0 - DAY}ms AND time < {T0 + (DAYS + 1) * DAY}ms"
        for select in bounds_rollup_selects(db, where=where).values():
            await influx.http.query(select)
        for s in (influx, sqlite):
            await s.close()

    asyncio.run(fill())
    yield {"influx": lambda: InfluxStore(url=influxdb.url, database=db),
           "sqlite": lambda: SqliteStore(path=path)}


def _run(make: Callable[[], TelemetryStore],
         work: Callable[[TelemetryStore], Awaitable[np.ndarray]]) -> np.ndarray:
    async def go() -> np.ndarray:
        store = make()
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()
    return asyncio.run(go())


def _check(got: np.ndarray, want: np.ndarray) -> None:
    assert not np.any(np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * float(np.max(want)))


@pytest.mark.parametrize("backend", ["influx", "sqlite"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first_hour=st.integers(0, DAYS * 24 - 1), hours=st.integers(1, 72),
       every_s=st.sampled_from([None, 900, 3600]))
def test_hourly_energy_is_the_same_in_any_window_and_resolution(
        stores: dict[str, Callable[[], TelemetryStore]], backend: str, first_hour: int, hours: int,
        every_s: int | None) -> None:
    start = T0 + first_hour * H
    end = min(start + hours * H, T0 + DAYS * DAY)
    got = _run(stores[backend], lambda s: _energy(s, start, end, every_s, H))
    _check(got, _reference(np.arange(start, end + 1, H)))


@pytest.mark.parametrize("backend", ["influx", "sqlite"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first_day=st.integers(0, DAYS - 1), days=st.integers(1, DAYS),
       every_s=st.sampled_from([None, 900, 3600, 86400]))
def test_daily_energy_is_the_same_in_any_window_and_resolution(
        stores: dict[str, Callable[[], TelemetryStore]], backend: str, first_day: int, days: int,
        every_s: int | None) -> None:
    start = T0 + first_day * DAY
    end = min(start + days * DAY, T0 + DAYS * DAY)
    got = _run(stores[backend], lambda s: _energy(s, start, end, every_s, DAY))
    _check(got, _reference(np.arange(start, end + 1, DAY)))


def test_a_gap_is_spread_by_time_and_reported_as_not_covered() -> None:
    edges = np.arange(T0 + 29 * H, T0 + 34 * H + 1, H)
    res = counter_intervals(TIMES, VALUES, edges)
    # The gap runs from just before 30:00 to 32:17: the hours that touch it are not covered.
    assert list(res.covered) == [False, False, False, False, True]
    # The gap's energy is shared by the hours in it in proportion to their overlap.
    before = TIMES[TIMES <= T0 + 30 * H][-1]
    after = TIMES[TIMES >= T0 + 32 * H + 17 * 60_000][0]
    rate = (VALUES[np.searchsorted(TIMES, after)] - VALUES[np.searchsorted(TIMES, before)]) / (after - before)
    assert res.amount[2] == pytest.approx(rate * H, rel=1e-12)
