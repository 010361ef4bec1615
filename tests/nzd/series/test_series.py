"""The series look like the real thing: energy totals, day shapes, night, leaks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from nzd.series import (
    clear_sky_index,
    cumulative_m3,
    load_profile_w,
    pv_power_w,
    time_grid,
    water_flow_m3h,
)

LAT, LON = 43.88, 11.10
YEAR = time_grid(datetime(2026, 1, 1, tzinfo=UTC), hours=365 * 24, step_s=900)


@pytest.mark.parametrize("profile", ["h0", "g0", "g1", "g3", "l0"])
def test_a_year_of_load_adds_up_to_the_annual_energy(profile: str) -> None:
    power_w = load_profile_w(profile, YEAR, annual_kwh=50_000)
    energy_kwh = power_w.sum() * 0.25 / 1000
    assert energy_kwh == pytest.approx(50_000, rel=0.01)
    assert (power_w > 0).all()


def test_a_workday_business_draws_by_day_and_little_at_night_or_on_sunday() -> None:
    wednesday = time_grid(datetime(2026, 6, 3, tzinfo=UTC), hours=24, step_s=3600)
    sunday = time_grid(datetime(2026, 6, 7, tzinfo=UTC), hours=24, step_s=3600)
    wed = load_profile_w("g1", wednesday, annual_kwh=100_000, tz="UTC")
    sun = load_profile_w("g1", sunday, annual_kwh=100_000, tz="UTC")
    assert wed[10] > 5 * wed[2]
    assert wed[10] > 3 * sun[10]


def test_load_accepts_aware_datetimes_and_refuses_naive_ones() -> None:
    t = datetime(2026, 3, 4, 12, tzinfo=UTC)
    assert load_profile_w("g0", [t], annual_kwh=8760)[0] == pytest.approx(
        load_profile_w("g0", t.timestamp(), annual_kwh=8760)[0])
    with pytest.raises(ValueError, match="timezone-aware"):
        load_profile_w("g0", [datetime(2026, 3, 4, 12)], annual_kwh=1)
    with pytest.raises(ValueError, match="unknown load profile"):
        load_profile_w("x9", [t.timestamp()], annual_kwh=1)


def test_pv_is_zero_at_night_and_yields_a_plausible_year() -> None:
    power_w = pv_power_w(100, YEAR, lat=LAT, lon=LON)
    yield_kwh_per_kwp = power_w.sum() * 0.25 / 1000 / 100
    assert 850 < yield_kwh_per_kwp < 1600
    assert power_w.max() <= 100_000
    midnight = time_grid(datetime(2026, 6, 21, 23, tzinfo=UTC), hours=1, step_s=600)
    assert (pv_power_w(100, midnight, lat=LAT, lon=LON) == 0).all()


def test_pv_is_higher_in_summer_than_in_winter_and_clouds_vary() -> None:
    june = time_grid(datetime(2026, 6, 1, tzinfo=UTC), hours=30 * 24, step_s=3600)
    december = time_grid(datetime(2026, 12, 1, tzinfo=UTC), hours=30 * 24, step_s=3600)
    assert pv_power_w(10, june, lat=LAT, lon=LON).sum() > 2 * pv_power_w(10, december, lat=LAT, lon=LON).sum()
    kt = clear_sky_index(june)
    assert kt.min() < 0.5 < kt.max()


def test_industrial_water_demand_has_its_daily_volume_and_a_leak_shows_at_night() -> None:
    week = time_grid(datetime(2026, 6, 1, tzinfo=UTC), hours=7 * 24, step_s=60)
    flow = water_flow_m3h(week, daily_m3=240, tz="UTC")
    volume = cumulative_m3(week, flow)
    assert volume[-1] / 7 == pytest.approx(240, rel=0.02)
    night = time_grid(datetime(2026, 6, 3, 2, tzinfo=UTC), hours=1, step_s=60)
    quiet = water_flow_m3h(night, daily_m3=240, tz="UTC")
    leaking = water_flow_m3h(night, daily_m3=240, leak_m3h=1.5, tz="UTC")
    assert np.allclose(leaking - quiet, 1.5)
    assert np.all(np.diff(cumulative_m3(week, flow)) >= 0)


def test_a_night_leak_flows_only_in_its_window() -> None:
    day = time_grid(datetime(2026, 6, 3, tzinfo=UTC), hours=24, step_s=3600)
    base = water_flow_m3h(day, daily_m3=100, tz="UTC")
    night = water_flow_m3h(day, daily_m3=100, leak_m3h=3, leak_hours=(22, 6), tz="UTC")
    extra = night - base
    assert np.allclose(extra[[22, 23, 0, 3, 5]], 3) and np.allclose(extra[6:22], 0)
