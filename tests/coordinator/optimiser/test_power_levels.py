"""A batch that may run at one of several power levels: the plan picks the level (hand-computed
plans, real HiGHS)."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.optimiser import LiveState, PlanStatus, plan_district
from tests.coordinator.cases import DAY_MS, district, forecast

H_MS = 3_600_000


def two_sites(levels: list[float]):  # type: ignore[no-untyped-def]
    return district([
        {"id": "pv-site", "pv": [{"id": "roof", "kwp": 40}]},
        {"id": "mill", "flexible_loads": [{"id": "batch", "energy_kwh": 40, "power_kw": 10,
                                           "power_levels_kw": levels, "earliest_start": "08:00",
                                           "deadline": "20:00", "min_run_minutes": 60}]},
    ])


PV = {0: {12: 20.0, 13: 20.0}}  # the other firm's 40 kWh of surplus, in two hours


def test_at_its_default_power_only_half_of_the_batch_meets_the_surplus() -> None:
    model = two_sites([])
    plan = plan_district(model, forecast(model, pv=PV), start_ms=DAY_MS)
    batch = plan.asset("mill", "batch").power_kw
    assert batch.sum() == pytest.approx(40.0) and set(np.round(batch[batch > 0], 6)) == {10.0}
    # 4 h at 10 kW: hours 12 and 13 share 10 kWh each. 10 - 4 - 20 kWh x 0.121 EUR.
    assert plan.shared_energy_kwh.sum() == pytest.approx(20.0)
    assert plan.objective_eur == pytest.approx(10.0 - 4.0 - 2.42, abs=1e-3)


def test_the_plan_picks_the_level_that_takes_the_whole_surplus() -> None:
    model = two_sites([20.0])
    plan = plan_district(model, forecast(model, pv=PV), start_ms=DAY_MS)
    assert plan.status is PlanStatus.OPTIMAL
    batch = plan.asset("mill", "batch").power_kw
    assert np.flatnonzero(batch > 0).tolist() == [12, 13]
    assert batch[12] == pytest.approx(20.0) and batch[13] == pytest.approx(20.0)
    assert plan.shared_energy_kwh.sum() == pytest.approx(40.0)
    assert plan.objective_eur == pytest.approx(10.0 - 4.0 - 4.84, abs=1e-3)


def test_a_batch_running_at_a_level_keeps_it() -> None:
    model = two_sites([20.0])
    start = DAY_MS + 9 * H_MS  # 09:00; the batch started at 08:00 at 20 kW (20 kWh done)
    key = ("mill", "batch")
    state = LiveState(load_delivered_kwh={key: 20.0}, load_running=frozenset({key}),
                      load_power_kw={key: 20.0})
    pv = {0: {t - 9: v for t, v in PV[0].items()}}
    plan = plan_district(model, forecast(model, pv=pv, start_ms=start), state, start_ms=start)
    batch = plan.asset("mill", "batch").power_kw
    assert batch[0] == pytest.approx(20.0) and batch.sum() == pytest.approx(20.0)
