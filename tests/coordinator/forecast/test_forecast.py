"""Forecasts on synthetic histories whose right answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coordinator.forecast import (
    ExternalForecastError,
    SiteHistory,
    apply_external_file,
    backtest,
    clear_sky_kw,
    forecast_district,
    weekday_profile,
)
from tests.coordinator.cases import DAY_MS, district

WEEK = 7 * 24


def _model():
    return district([{"id": "a", "pv": [{"id": "pv", "kwp": 100}]}, {"id": "b"}])


def _history(load: np.ndarray, pv: np.ndarray | None = None, days: int = 21) -> SiteHistory:
    start = DAY_MS - days * 86_400_000
    pv = np.zeros_like(load) if pv is None else pv
    return SiteHistory(start_ms=start, step_minutes=60, load_kw=load, pv_kw=pv)


def test_same_weekday_profile_weighs_recent_weeks_more() -> None:
    load = np.repeat([[10.0, 20.0, 30.0]], 2, axis=0).repeat(WEEK, axis=1)  # one level per week
    h = _history(load)
    got = weekday_profile(h, h.load_kw, start_ms=DAY_MS, steps=24, weeks=3, decay=0.5)
    assert got == pytest.approx(np.full((2, 24), (30 + 0.5 * 20 + 0.25 * 10) / 1.75))


def test_short_history_falls_back_to_persistence() -> None:
    model = _model()
    day = np.arange(24, dtype=float)
    h = _history(np.tile(day, (2, 2)), days=2)  # two days: no week-old data
    fc = forecast_district(model, h, start_ms=DAY_MS)
    assert fc.load_kw == pytest.approx(np.tile(day, (2, 1)))


def test_clear_sky_pv_is_zero_at_night_and_peaks_near_noon() -> None:
    model = _model()
    clear = clear_sky_kw(model, model.step_times_ms(DAY_MS))
    assert clear[1].max() == 0.0  # site b has no PV
    assert clear[0, :3].max() == 0.0 and clear[0, 22:].max() == 0.0
    assert 10 <= int(np.argmax(clear[0])) <= 12  # UTC noon at 11 degrees east is about 11:15
    assert 60.0 < clear[0].max() <= 100.0


def test_pv_forecast_scales_the_clear_sky_by_recent_yield() -> None:
    model = _model()
    days = 4
    start = DAY_MS - days * 86_400_000
    times = start + np.arange(days * 24, dtype=np.int64) * 3_600_000
    pv = 0.5 * clear_sky_kw(model, times)
    h = SiteHistory(start_ms=start, step_minutes=60, load_kw=np.ones_like(pv), pv_kw=pv)
    fc = forecast_district(model, h, start_ms=DAY_MS)
    expected = 0.5 * clear_sky_kw(model, model.step_times_ms(DAY_MS))
    assert fc.pv_kw == pytest.approx(expected, abs=1e-6)


def test_backtest_profile_beats_persistence_on_a_weekly_pattern() -> None:
    model = _model()
    days = 35
    hours = np.arange(days * 24)
    weekday = (hours // 24) % 7
    load = np.where(weekday < 5, 50.0, 5.0) + 10 * np.sin(hours / 24 * 2 * np.pi)
    rng = np.random.default_rng(3)
    h = _history(np.stack([load, load]) + rng.normal(0, 1, (2, load.size)), days=days)
    profile = backtest(model, h, days=7)
    naive = backtest(model, h, days=7, method="persistence")
    assert profile.load_mae_kw < 1.5
    assert naive.load_mae_kw > 3 * profile.load_mae_kw
    assert profile.load_nmae == pytest.approx(profile.load_mae_kw / np.abs(load[-7 * 24:]).mean(), rel=0.1)


def test_external_file_overrides_given_entries(tmp_path: Path) -> None:
    model = _model()
    base = forecast_district(model, None, start_ms=DAY_MS)
    path = tmp_path / "fc.csv"
    path.write_text("time,site,load_kw,pv_kw\n"
                    "2026-07-01T05:00:00+00:00,b,42,\n"
                    f"{DAY_MS + 6 * 3_600_000},a,,7.5\n")
    fc = apply_external_file(path, model, base)
    assert fc.load_kw[1, 5] == 42.0
    assert fc.pv_kw[0, 6] == 7.5
    assert fc.pv_kw[0, 7] == base.pv_kw[0, 7]
    path.write_text("time,site,load_kw\n2026-07-01T05:00:00+00:00,nowhere,1\n")
    with pytest.raises(ExternalForecastError, match=r"fc.csv:2: site"):
        apply_external_file(path, model, base)
