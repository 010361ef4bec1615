"""Targets: the path between baseline and target, and a year's progress, by hand."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nzd.targets import Metric, Status, Target, path_value, progress

CO2 = Target(baseline_year=2025, baseline_value=400.0, target_year=2030, target_value=240.0)
"""-40 % in five years: 32 t less each year."""


def test_the_linear_path_by_hand() -> None:
    assert path_value(CO2, 2025) == 400.0
    assert path_value(CO2, 2026) == pytest.approx(368.0)  # 400 - 160 / 5
    assert path_value(CO2, 2028) == pytest.approx(304.0)
    assert path_value(CO2, 2030) == 240.0
    assert path_value(CO2, 2020) == 400.0 and path_value(CO2, 2035) == 240.0  # held outside the years


def test_a_years_progress_by_hand() -> None:
    # 2026 expects 368 t; the tolerance is 5 % of the 160 t planned change: 8 t.
    behind = progress(Metric.CO2_ELECTRICITY, CO2, year=2026, actual=380.0)
    assert (behind.expected, behind.gap) == (pytest.approx(368.0), pytest.approx(12.0))
    assert behind.status is Status.BEHIND
    assert progress(Metric.CO2_ELECTRICITY, CO2, year=2026, actual=375.0).status is Status.ON_TRACK
    ahead = progress(Metric.CO2_ELECTRICITY, CO2, year=2026, actual=350.0)
    assert (ahead.gap, ahead.status) == (pytest.approx(-18.0), Status.AHEAD)
    # A share that should rise: 0.20 -> 0.50 by 2030 expects 0.26 in 2026; 0.30 is ahead.
    share = Target(baseline_year=2025, baseline_value=0.2, target_year=2030, target_value=0.5)
    up = progress(Metric.RENEWABLE_SHARE, share, year=2026, actual=0.30)
    assert (up.expected, up.gap, up.status) == (pytest.approx(0.26), pytest.approx(0.04), Status.AHEAD)
    assert progress(Metric.RENEWABLE_SHARE, share, year=2026, actual=0.24).status is Status.BEHIND


def test_a_target_must_end_after_its_baseline() -> None:
    with pytest.raises(ValidationError, match="target_year must be after baseline_year"):
        Target(baseline_year=2030, baseline_value=1.0, target_year=2030, target_value=0.5)
