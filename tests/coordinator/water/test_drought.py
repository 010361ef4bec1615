"""Drought mode: the severity level turns into a cost of fresh water and fuller recycled tanks."""

from __future__ import annotations

import pytest

from coordinator.water import drought_policy, intake_cost_eur_per_m3, tank_level_min_pct
from nzd.config import TankConfig, WaterSeverity


def test_fresh_water_costs_more_as_the_drought_worsens_and_recycled_water_costs_nothing() -> None:
    levels = ["normal", "low", "medium", "high"]
    costs = [intake_cost_eur_per_m3("public", level) for level in levels]
    assert costs[0] == 0.0 and costs == sorted(costs) and len(set(costs)) == 4
    assert intake_cost_eur_per_m3("well", "high") == costs[-1]
    assert all(intake_cost_eur_per_m3("recycled", level) == 0.0 for level in levels)


def test_recycled_tanks_are_kept_fuller_in_drought_but_below_their_maximum() -> None:
    tank = TankConfig(id="t", volume_m3=500, level_min_pct=20, level_max_pct=95, pump_max_m3h=60,
                      pump_kw_per_m3h=0.4)
    assert tank_level_min_pct(tank, "normal") == 20
    assert tank_level_min_pct(tank, WaterSeverity.HIGH) == 40
    nearly_full = tank.model_copy(update={"level_min_pct": 85})
    assert tank_level_min_pct(nearly_full, "high") == 90


def test_an_unknown_level_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="normal, low, medium, high"):
        drought_policy("severe")
    custom = drought_policy("low", costs_eur_per_m3={WaterSeverity.LOW: 2.0})
    assert custom.non_recycled_eur_per_m3 == 2.0
