"""Water KPIs against hand-computed cases, a totaliser reset and a gap included."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from nzd.accounting import (
    MeterReadings,
    Period,
    district_water_kpis,
    intake_against_allowance,
    period_change,
    period_edges,
    site_water_kpis,
    trend_per_period,
)
from nzd.config import WaterConfig, WaterMeterConfig, WaterMeterRole, WaterSeverity, WaterSource

H = 3_600_000
T0 = int(datetime(2026, 6, 1, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
ROME = "Europe/Rome"


def water(unit: str | None = "kg") -> WaterConfig:
    return WaterConfig(
        meters=[
            WaterMeterConfig(device="intake-public", role=WaterMeterRole.INTAKE, source=WaterSource.PUBLIC),
            WaterMeterConfig(device="intake-recycled", role=WaterMeterRole.INTAKE,
                             source=WaterSource.RECYCLED),
            WaterMeterConfig(device="discharge", role=WaterMeterRole.DISCHARGE),
            WaterMeterConfig(device="dye-line", role=WaterMeterRole.PROCESS),
        ],
        production_unit=unit,
        allowance_m3_per_day={WaterSeverity.NORMAL: 300, WaterSeverity.HIGH: 200},
    )


def hourly(*values: float) -> MeterReadings:
    return MeterReadings(times_ms=[T0 + k * H for k in range(len(values))], volume_m3=list(values))


def three_hours() -> dict[str, MeterReadings]:
    return {
        "intake-public": hourly(100, 110, 125, 130),          # 10, 15, 5
        "intake-recycled": hourly(50, 80, 4, 24),             # 30, reset -> 4, 20
        "discharge": hourly(0, 20, 30, 45),                   # 20, 10, 15
    }


def test_hourly_kpis_match_hand_computed_values_across_a_totaliser_reset() -> None:
    edges = [T0, T0 + H, T0 + 2 * H, T0 + 3 * H]
    k = site_water_kpis(water=water(), readings=three_hours(), edges_ms=edges, output_units=[100, 0, 50])
    np.testing.assert_allclose(k.intake_by_source_m3[WaterSource.PUBLIC], [10, 15, 5])
    np.testing.assert_allclose(k.intake_by_source_m3[WaterSource.RECYCLED], [30, 4, 20])
    np.testing.assert_allclose(k.intake_m3, [40, 19, 25])
    np.testing.assert_allclose(k.discharge_m3, [20, 10, 15])
    np.testing.assert_allclose(k.process_m3, [0, 0, 0])  # a meter without readings counts as zero
    np.testing.assert_allclose(k.reuse_ratio, [0.75, 4 / 19, 0.8])
    intensity = k.intensity_m3_per_unit
    assert intensity is not None
    assert intensity[0] == pytest.approx(0.4)
    assert math.isnan(intensity[1])  # nothing produced: no intensity, not infinity
    assert intensity[2] == pytest.approx(0.5)
    totals = k.totals()
    assert totals["intake_m3"] == pytest.approx(84)
    assert totals["reuse_ratio"] == pytest.approx(54 / 84)
    assert totals["intensity_m3_per_unit"] == pytest.approx(84 / 150)
    assert totals["discharge_m3"] == pytest.approx(45)


def test_intensity_counts_only_intervals_whose_output_is_known() -> None:
    edges = [T0, T0 + H, T0 + 2 * H, T0 + 3 * H]
    # The second hour's output was never reported: its 19 m3 must not inflate the intensity.
    k = site_water_kpis(water=water(), readings=three_hours(), edges_ms=edges,
                        output_units=[100, float("nan"), 50])
    totals = k.totals()
    assert totals["output_units"] == pytest.approx(150)
    assert totals["intensity_m3_per_unit"] == pytest.approx((40 + 25) / 150)
    # intake 40, 19, 25 m3: least-squares slope -7.5 m3 per hour
    assert totals["intake_trend_m3_per_period"] == pytest.approx(-7.5)


def test_a_gap_in_the_readings_is_shared_by_the_hours_it_spans() -> None:
    readings = {"intake-public": MeterReadings(times_ms=[T0, T0 + 3 * H], volume_m3=[0, 30])}
    k = site_water_kpis(water=water(), readings=readings, edges_ms=[T0 + i * H for i in range(4)])
    np.testing.assert_allclose(k.intake_m3, [10, 10, 10])
    np.testing.assert_allclose(k.reuse_ratio, [0, 0, 0])


def test_reuse_ratio_is_undefined_without_intake() -> None:
    k = site_water_kpis(water=water(), readings={}, edges_ms=[T0, T0 + H])
    assert math.isnan(k.reuse_ratio[0])
    assert k.intensity_m3_per_unit is None


def test_readings_of_an_unknown_device_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="intake-well"):
        site_water_kpis(water=water(), readings={"intake-well": hourly(0, 1)}, edges_ms=[T0, T0 + H])


def test_daily_intake_against_the_allowance_of_the_severity_level() -> None:
    edges = period_edges(start_ms=T0, end_ms=T0 + 1, period=Period.DAY, timezone=ROME)
    day0 = int(edges[0])
    days = [day0, day0 + 24 * H, day0 + 48 * H]
    readings = {"intake-public": MeterReadings(times_ms=days, volume_m3=[0, 250, 570])}
    k = site_water_kpis(water=water(), readings=readings, edges_ms=days)
    normal = intake_against_allowance(k, water=water(), severity="normal", timezone=ROME)
    assert normal.allowance_m3 is not None and normal.used_fraction is not None and normal.over is not None
    np.testing.assert_allclose(normal.allowance_m3, [300, 300])
    np.testing.assert_allclose(normal.used_fraction, [250 / 300, 320 / 300])
    assert normal.over.tolist() == [False, True]
    high = intake_against_allowance(k, water=water(), severity=WaterSeverity.HIGH, timezone=ROME)
    assert high.used_fraction is not None
    np.testing.assert_allclose(high.used_fraction, [1.25, 1.6])
    assert intake_against_allowance(k, water=water(), severity="medium", timezone=ROME).allowance_m3 is None
    with pytest.raises(ValueError):
        intake_against_allowance(k, water=water(), severity="extreme", timezone=ROME)


def test_day_edges_follow_the_district_clock_across_dst() -> None:
    tz = ZoneInfo(ROME)
    start = int(datetime(2026, 3, 28, 12, tzinfo=tz).timestamp() * 1000)
    end = int(datetime(2026, 3, 30, 12, tzinfo=tz).timestamp() * 1000)
    edges = period_edges(start_ms=start, end_ms=end, period="day", timezone=ROME)
    local = [datetime.fromtimestamp(e / 1000, tz) for e in edges]
    assert [(d.day, d.hour) for d in local] == [(28, 0), (29, 0), (30, 0), (31, 0)]
    assert np.diff(edges).tolist() == [24 * H, 23 * H, 24 * H]  # 29 March 2026 is 23 hours long


def test_month_edges_roll_over_the_year() -> None:
    tz = ZoneInfo(ROME)
    start = int(datetime(2026, 11, 15, tzinfo=tz).timestamp() * 1000)
    end = int(datetime(2027, 1, 2, tzinfo=tz).timestamp() * 1000)
    edges = period_edges(start_ms=start, end_ms=end, period=Period.MONTH, timezone=ROME)
    assert [datetime.fromtimestamp(e / 1000, tz).date().isoformat() for e in edges] == [
        "2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01"]


def test_hour_edges_cover_the_range() -> None:
    edges = period_edges(start_ms=T0 + 10 * 60_000, end_ms=T0 + 2 * H, period="hour", timezone=ROME)
    assert edges.tolist() == [T0, T0 + H, T0 + 2 * H]


def test_district_sums_sites_and_keeps_intensity_only_for_one_unit() -> None:
    edges = [T0, T0 + H, T0 + 2 * H, T0 + 3 * H]
    a = site_water_kpis(water=water("kg"), readings=three_hours(), edges_ms=edges, output_units=[100, 0, 50])
    b = site_water_kpis(water=water("kg"), readings={"intake-public": hourly(0, 10, 20, 30)},
                        edges_ms=edges, output_units=[10, 10, 10])
    d = district_water_kpis([a, b])
    np.testing.assert_allclose(d.intake_m3, [50, 29, 35])
    np.testing.assert_allclose(d.reuse_ratio, [30 / 50, 4 / 29, 20 / 35])
    intensity = d.intensity_m3_per_unit
    assert intensity is not None
    np.testing.assert_allclose(intensity, [50 / 110, 29 / 10, 35 / 60])
    metres = site_water_kpis(water=water("m"), readings={}, edges_ms=edges, output_units=[1, 1, 1])
    assert district_water_kpis([a, metres]).intensity_m3_per_unit is None


def test_trends() -> None:
    change = period_change([10, 15, 0, 5])
    assert math.isnan(change[0]) and math.isnan(change[3])
    np.testing.assert_allclose(change[1:3], [0.5, -1.0])
    assert trend_per_period([1, 2, 3, float("nan"), 5]) == pytest.approx(1.0)
    assert math.isnan(trend_per_period([4.0]))


def test_a_simulated_week_from_the_totalisers_with_a_meter_swap() -> None:
    """The simulator's plant takes its daily volume; a meter replaced mid-week (totaliser back to
    zero) and an hour without readings change nothing in the weekly total."""
    from nzd.series import cumulative_m3, water_flow_m3h

    edges = period_edges(start_ms=T0, end_ms=T0 + 7 * 24 * H, period="day", timezone="UTC")
    t_s = np.arange(edges[0] / 1000, edges[-1] / 1000 + 1, 60.0)
    flow = water_flow_m3h(t_s, daily_m3=240, pattern="industrial", tz="UTC")
    volume = cumulative_m3(t_s, flow, start_m3=5_000.0)
    swapped = t_s >= t_s[0] + 3.5 * 86_400
    volume = np.where(swapped, volume - volume[swapped][0], volume)  # the new meter starts at 0
    keep = ~((t_s > t_s[0] + 5 * 86_400) & (t_s < t_s[0] + 5 * 86_400 + 3600))
    readings = {"intake-public": MeterReadings(times_ms=t_s[keep] * 1000, volume_m3=volume[keep])}
    k = site_water_kpis(water=water(), readings=readings, edges_ms=edges)
    assert k.intake_m3.sum() == pytest.approx(7 * 240, rel=0.01)  # a week of the simulator's plant
    workdays, weekend = k.intake_m3[:5], k.intake_m3[5:]  # 1 June 2026 is a Monday
    assert weekend.max() < 0.2 * workdays.min()
