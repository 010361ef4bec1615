"""Closed days' energy from the archive equals the energy computed from the counters, and a
reading that may change an archived day drops it.

Twelve days of two firms' irregular counter readings (a three-hour gap, a meter replaced, a
flagged reading, the October change from summer time) in a real SQLite store; KPIs of windows
that start and end mid-day, whole days and the whole span, per hour, day and month, with and
without the archive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from api.energy import MeasuredKpis, cached_kpis, local_hours, measured_kpis
from api.energy_archive import EnergyArchive, local_days
from api.kpi_cache import KpiCache
from api.reading_reach import ReadingReach
from nzd.config import DistrictConfig
from nzd.messages import DeviceKind, Telemetry
from nzd.store import Reading
from nzd.store.sqlite import SqliteStore
from tests.api.conftest import DISTRICT, ApiServer, write, write_unseen
from tests.api.test_latest import publish

H = 3_600_000
DAY = 24 * H
ROME = ZoneInfo("Europe/Rome")
T0 = int(datetime(2026, 10, 19, tzinfo=ROME).timestamp() * 1000)  # 12 days across 25 October
END = int(datetime(2026, 10, 31, tzinfo=ROME).timestamp() * 1000)
DAYS = 12
FLAGGED_MS = T0 + 2 * DAY + 5 * H + 7 * 60_000
RESET_MS = T0 + 6 * DAY + 13 * H + 2 * 60_000


def _district() -> DistrictConfig:
    return DistrictConfig.model_validate({"district": "d1", "sites": [
        {"id": "s1", "name": "One", "meters": [{"device": "m1", "role": "grid"},
                                               {"device": "p1", "role": "pv"}]},
        {"id": "s2", "name": "Two", "meters": [{"device": "m2", "role": "grid"}]}]})


def _readings() -> list[Reading]:
    rng = np.random.default_rng(7)
    out: list[Reading] = []
    for site, device, base in (("s1", "m1", 4e6), ("s1", "p1", 1e6), ("s2", "m2", 9e6)):
        t, imp, exp, seq = T0 - 2 * H, base, base / 3, 0
        replaced = flagged = False
        while t < END + 2 * H:
            if not T0 + 4 * DAY + 9 * H < t < T0 + 4 * DAY + 12 * H:  # a three-hour gap
                if device == "m2" and t >= RESET_MS and not replaced:
                    imp, replaced = 0.0, True  # the meter was replaced
                quality = {}
                if device == "m1" and t >= FLAGGED_MS and not flagged:
                    quality, flagged = {"energy_import_wh": "comm_error"}, True
                if device == "p1":
                    values = {"pv_energy_wh": imp}
                else:
                    values = {"energy_import_wh": imp, "energy_export_wh": exp}
                out.append(Reading("d1", site, device, DeviceKind.ELECTRICITY_METER, t, seq, values,
                                   quality=quality))
                seq += 1
            step = int(rng.integers(40_000, 400_000))
            imp += step / H * float(rng.uniform(0, 60_000))
            exp += step / H * float(rng.uniform(0, 8_000))
            t += step
    return out


def _same(a: MeasuredKpis, b: MeasuredKpis) -> None:
    for part in ("sites", "district"):
        x, y = getattr(a.kpis, part), getattr(b.kpis, part)
        for name in x.__dataclass_fields__:
            np.testing.assert_allclose(getattr(x, name), getattr(y, name), rtol=1e-12, atol=1e-9,
                                       err_msg=f"{part}.{name}")
    for q in a.covered:
        assert np.array_equal(a.covered[q], b.covered[q]), q
        assert np.array_equal(a.metered[q], b.metered[q]), q
    assert np.array_equal(a.bounded, b.bounded)
    for ea, eb in zip(a.events, b.events, strict=True):
        assert {d: {k: sorted(v) for k, v in kinds.items()} for d, kinds in ea.items()} == \
            {d: {k: sorted(v) for k, v in kinds.items()} for d, kinds in eb.items()}


@pytest.fixture()
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(path=tmp_path / "store.db")
    asyncio.run(_fill(s))
    return s


async def _fill(s: SqliteStore) -> None:
    await s.open()
    await s.write(_readings())
    await s.close()


def _archive(district: DistrictConfig) -> EnergyArchive:
    archive = EnergyArchive(site_ids=[s.id for s in district.sites], timezone=district.timezone,
                            step_minutes=district.step_minutes, days=400, close_after_s=3600.0, settle_s=0.0)
    archive.set_live(True)
    return archive


def test_archived_days_give_the_counters_figures(store: SqliteStore) -> None:
    district = _district()
    archive = _archive(district)
    windows = [(T0, END, "day"), (T0, END, "month"),
               (T0 + 5 * H + 15 * 60_000, T0 + 9 * DAY + 7 * H, "hour"),  # partial first and last day
               (T0 + 5 * DAY, T0 + 8 * DAY, "day"),  # the 25-hour day inside
               (T0 + 3 * DAY, T0 + 5 * DAY, "hour")]  # the gap

    async def check() -> None:
        await store.open()
        try:
            sites = list(district.sites)
            for start, end, period in windows:
                direct = await measured_kpis(store, district, sites, start_ms=start, end_ms=end,
                                             period=period)
                kept = await measured_kpis(store, district, sites, start_ms=start, end_ms=end, period=period,
                                           archive=archive)
                _same(direct, kept)
                one = await measured_kpis(store, district, sites[1:], start_ms=start, end_ms=end,
                                          period=period, archive=archive)
                np.testing.assert_allclose(one.kpis.sites.import_kwh[0], direct.kpis.sites.import_kwh[1],
                                           rtol=1e-12)
            computed = archive.computed_days
            again = await measured_kpis(store, district, sites, start_ms=T0, end_ms=END,
                                        period="day", archive=archive)
            assert archive.computed_days == computed  # every day from the archive now
            assert archive.held_days("s1") == DAYS and archive.held_days("s2") == DAYS
            assert len(again.events[1]["m2"]["reset"]) == 1
        finally:
            await store.close()

    asyncio.run(check())


def test_a_reading_drops_the_days_it_may_change_and_no_others(store: SqliteStore) -> None:
    district = _district()
    archive = _archive(district)
    sites = list(district.sites)

    async def check() -> None:
        await store.open()
        try:
            def kpis(with_archive: bool = True) -> Awaitable[MeasuredKpis]:
                return measured_kpis(store, district, sites, start_ms=T0, end_ms=END, period="day",
                                     archive=archive if with_archive else None)

            before = await kpis()
            # Live readings of now, in order, change no closed day.
            now_ms = int(time.time() * 1000)
            reach = ReadingReach()
            for k in range(3):
                archive.saw("s1", *reach.span("s1", "m1", now_ms + k * 1000))
            assert archive.held_days("s1") == DAYS
            # A corrected reading of day 3 reaches the store, unseen: the archive still answers.
            ts = T0 + 3 * DAY + 12 * H + 1
            await store.write([Reading("d1", "s1", "m1", DeviceKind.ELECTRICITY_METER, ts, 10_000,
                                       {"energy_import_wh": 1e9, "energy_export_wh": 0.0})])
            stale = await kpis()
            assert stale.kpis.sites.import_kwh[0, 3] == before.kpis.sites.import_kwh[0, 3]
            # Seen on the subscription (a replay: out of order): the week around it is dropped,
            # only for that firm, and computed again from the store.
            archive.saw("s1", *reach.span("s1", "m1", ts))
            assert archive.held_days("s1") == 1 and archive.held_days("s2") == DAYS  # the last day stays
            after = await kpis()
            direct = await kpis(with_archive=False)
            _same(after, direct)
            assert after.kpis.sites.import_kwh[0, 3] > before.kpis.sites.import_kwh[0, 3] + 1e5
            # A reading of a firm the registry does not know changes nothing.
            archive.saw("intruder", *reach.span("intruder", "m1", ts))
            assert archive.held_days("s1") == DAYS
            # A disconnected subscription: nothing archived, nothing used.
            archive.set_live(False)
            assert archive.closed_days(T0, END) == []
        finally:
            await store.close()

    asyncio.run(check())


def test_local_days_and_hours_follow_the_calendar() -> None:
    days = local_days(T0 + H, T0 + 10 * DAY, "Europe/Rome")
    assert len(days) == 8 and days[0][0] == T0 + DAY  # the tenth day ends an hour late (winter time)
    lengths = {(hi - lo) // H for lo, hi in days}
    assert lengths == {24, 25}  # 25 October 2026 has 25 hours
    times = np.arange(T0, END, 900_000, dtype=np.int64)
    expected = [datetime.fromtimestamp(t / 1000, ROME).hour for t in times.tolist()]
    assert local_hours(times, "Europe/Rome").tolist() == expected


def test_the_api_serves_archived_days_until_the_subscription_sees_a_change(api_server: ApiServer) -> None:
    # Three whole local days 45 days ago, a reading every 15 minutes, 2.5 kWh apart: 10 kWh per hour.
    now_ms = int(time.time() * 1000)
    days = local_days(now_ms - 45 * DAY, now_ms, "Europe/Rome")[:3]
    origin = days[0][0] - H
    site, device = "tintoria-rossi", "main-meter"

    def reading(k: int, extra_wh: float = 0.0) -> Reading:
        return Reading(DISTRICT, site, device, DeviceKind.ELECTRICITY_METER, origin + k * 900_000, 50_000 + k,
                       {"energy_import_wh": 1000.0 + 2500.0 * k + extra_wh, "energy_export_wh": 0.0})

    write(api_server, [reading(k) for k in range((days[-1][1] - origin) // 900_000 + 8)])
    iso = [datetime.fromtimestamp(t / 1000, ROME).date().isoformat() for t in (days[0][0], days[-1][1])]

    def rows(period: str) -> list[float]:
        with api_server.client(api_server.operator) as c:
            r = c.get(f"/api/v1/sites/{site}/kpis", params={"from": iso[0], "to": iso[1], "period": period})
        assert r.status_code == 200, r.text
        return [round(row["import_kwh"], 3) for row in r.json()]

    daily = rows("day")
    assert daily == [(hi - lo) / H * 10.0 for lo, hi in days]
    # The reading at the second day's end corrected 50 kWh up, straight into the store: the hourly
    # answer (not in the KPI cache) still comes from the archived days.
    k = (days[1][1] - origin) // 900_000
    write_unseen(api_server, [reading(k, 50_000.0)])
    hourly = rows("hour")
    assert set(hourly) == {10.0}
    # The same reading replayed over MQTT: the API computes those days again from the store.
    corrected = reading(k, 50_000.0)
    publish(api_server.mosquitto, site, [Telemetry(ts=corrected.ts_ms, seq=corrected.seq, device=device,
                                                   kind=DeviceKind.ELECTRICITY_METER, replayed=True,
                                                   values=dict(corrected.values))])
    deadline = time.monotonic() + 5
    while (got := rows("day")) == daily and time.monotonic() < deadline:
        time.sleep(0.1)
    assert got == [daily[0], daily[1] + 50.0, daily[2] - 50.0]


def test_only_the_operator_may_drop_computed_figures(api_server: ApiServer) -> None:
    params = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}
    with api_server.client(api_server.manager_a) as c:
        assert c.post("/api/v1/ops/recompute", params=params).status_code == 403
    with api_server.client() as c:  # no token: the public
        assert c.post("/api/v1/ops/recompute", params=params).status_code == 403
    with api_server.client(api_server.operator) as c:
        r = c.post("/api/v1/ops/recompute", params=params)
    assert r.status_code == 200 and set(r.json()) == {"kpi_answers", "archived_days"}


def test_requests_for_the_same_answer_at_once_share_one_computation(store: SqliteStore) -> None:
    district = _district()
    cache: KpiCache[MeasuredKpis] = KpiCache(max_entries=8, settle_s=0.0)
    cache.set_live(True)

    async def check() -> None:
        await store.open()
        try:
            sites = list(district.sites)
            answers = await asyncio.gather(*(
                cached_kpis(cache, store, district, sites, start_ms=T0, end_ms=END, period="day")
                for _ in range(8)))
        finally:
            await store.close()
        assert all(a is answers[0] for a in answers)  # one computation, eight answers
        assert cache.misses == 8 and not cache.inflight and len(cache) == 1

    asyncio.run(check())
