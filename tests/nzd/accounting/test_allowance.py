"""Issue 20: the drought allowance as an ordinance means it, against hand computations."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from nzd.accounting import MeterReadings, Period, intake_against_allowance, period_edges, site_water_kpis
from nzd.accounting.water_calendar import WATER_SEVERITY_KEY, severity_changes, severity_per_day
from nzd.config import WaterConfig, WaterMeterConfig, WaterSeverity, WaterSource
from nzd.store import Event, EventKind

ROME = "Europe/Rome"
TZ = ZoneInfo(ROME)
H = 3_600_000


def water(**allowance: float) -> WaterConfig:
    return WaterConfig(meters=[
        WaterMeterConfig(device="public", role="intake", source=WaterSource.PUBLIC),
        WaterMeterConfig(device="recycled", role="intake", source=WaterSource.RECYCLED)],
        allowance_m3_per_day={WaterSeverity(k): v for k, v in allowance.items()})


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=TZ).timestamp() * 1000)  # type: ignore[misc]


def days_kpis(first: datetime, public_per_day: list[float], recycled_per_day: list[float], *,
              period: Period = Period.DAY):  # type: ignore[no-untyped-def]
    day_edges = [int((first + timedelta(days=k)).timestamp() * 1000) for k in range(len(public_per_day) + 1)]
    readings = {"public": MeterReadings(times_ms=day_edges, volume_m3=np.cumsum([0.0, *public_per_day])),
                "recycled": MeterReadings(times_ms=day_edges, volume_m3=np.cumsum([0.0, *recycled_per_day]))}
    edges = period_edges(start_ms=day_edges[0], end_ms=day_edges[-1], period=period, timezone=ROME)
    return edges, readings


def test_recycled_water_does_not_count_against_the_allowance_by_default() -> None:
    edges, readings = days_kpis(datetime(2026, 6, 1, tzinfo=TZ), [150.0], [400.0])
    k = site_water_kpis(water=water(normal=300), readings=readings, edges_ms=edges)
    status = intake_against_allowance(k, water=water(normal=300), severity="normal", timezone=ROME)
    assert status.counted_m3.tolist() == [150.0] and status.over.tolist() == [False]
    assert status.used_fraction is not None and status.used_fraction[0] == pytest.approx(0.5)
    # Configured to count every source, the same day is over.
    every = water(normal=300).model_copy(update={"allowance_sources": list(WaterSource)})
    assert intake_against_allowance(k, water=every, severity="normal", timezone=ROME).over.tolist() == [True]


def test_a_firm_at_allowance_zero_is_over_with_any_fresh_intake() -> None:
    edges, readings = days_kpis(datetime(2026, 6, 1, tzinfo=TZ), [0.0, 0.5], [10.0, 10.0])
    w = water(high=0)
    k = site_water_kpis(water=w, readings=readings, edges_ms=edges)
    status = intake_against_allowance(k, water=w, severity="high", timezone=ROME)
    assert status.allowance_m3 is not None and status.allowance_m3.tolist() == [0.0, 0.0]
    assert status.over.tolist() == [False, True]  # recycled only: not over; 0.5 m3 fresh: over
    assert status.used_fraction is not None and np.isnan(status.used_fraction).all()


def test_a_dst_day_gets_one_days_allowance() -> None:
    # 25 October 2026 lasts 25 hours in Rome, 29 March 2026 23 hours.
    for first, hours in ((datetime(2026, 10, 25, tzinfo=TZ), 25), (datetime(2026, 3, 29, tzinfo=TZ), 23)):
        edges, readings = days_kpis(first, [240.0], [0.0])
        assert (edges[1] - edges[0]) // H == hours
        k = site_water_kpis(water=water(normal=240), readings=readings, edges_ms=edges)
        status = intake_against_allowance(k, water=water(normal=240), severity="normal", timezone=ROME)
        assert status.allowance_m3 is not None and status.allowance_m3.tolist() == [240.0]
        assert status.over.tolist() == [False]
        # Per hour, each hour gets 1/25 (1/23) of the day's allowance: together one day's.
        hourly = period_edges(start_ms=int(edges[0]), end_ms=int(edges[-1]), period=Period.HOUR,
                              timezone=ROME)
        kh = site_water_kpis(water=water(normal=240), readings=readings, edges_ms=hourly)
        sh = intake_against_allowance(kh, water=water(normal=240), severity="normal", timezone=ROME)
        assert sh.allowance_m3 is not None
        assert sh.allowance_m3 == pytest.approx(np.full(hours, 240.0 / hours))


def test_a_day_at_high_last_week_keeps_last_weeks_level() -> None:
    # The operator set "high" on Monday 1 June at 09:00 and "normal" again on Monday 8 June at 10:00.
    events = [Event(EventKind.STATUS, "d", "*", ms(2026, 6, 1, 9), WATER_SEVERITY_KEY,
                    {"water_severity": "high"}),
              Event(EventKind.STATUS, "d", "*", ms(2026, 6, 8, 10), WATER_SEVERITY_KEY,
                    {"water_severity": "normal"}),
              Event(EventKind.STATUS, "d", "*", ms(2026, 6, 3), "other", {"water_severity": "low"})]
    first = datetime(2026, 5, 31, tzinfo=TZ)
    edges, readings = days_kpis(first, [250.0] * 10, [0.0] * 10)
    levels = severity_per_day(edges, changes=severity_changes(events), default=WaterSeverity.NORMAL)
    assert [lv.value for lv in levels] == ["normal"] + ["high"] * 7 + ["normal"] * 2
    w = water(normal=300, high=200)
    k = site_water_kpis(water=w, readings=readings, edges_ms=edges)
    status = intake_against_allowance(k, water=w, severity=levels, timezone=ROME)
    # 250 m3 a day: over on the days at "high" (200), not on the days at "normal" (300), even
    # though the level in force now is "normal".
    assert status.over.tolist() == [False] + [True] * 7 + [False] * 2
    assert status.allowance_m3 is not None
    assert status.allowance_m3.tolist() == [300.0] + [200.0] * 7 + [300.0] * 2
    assert status.severity is WaterSeverity.NORMAL
