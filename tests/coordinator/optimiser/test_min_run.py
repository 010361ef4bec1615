"""An interruptible load with a minimum run time: it may pause, but every run lasts at least the
minimum (hand-computed plans, real HiGHS)."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.optimiser import LiveState, PlanStatus, plan_district
from tests.coordinator.cases import DAY_MS, district, forecast

H_MS = 3_600_000
# 10 kW of PV at 08:00, 10:00, 12:00 and 14:00 only: free energy in single, separate hours.
PV = {0: {8: 10.0, 10: 10.0, 12: 10.0, 14: 10.0}}


def mill(min_run_minutes: int):  # type: ignore[no-untyped-def]
    return district([{"id": "mill", "pv": [{"id": "roof", "kwp": 20}], "flexible_loads": [
        {"id": "wash", "energy_kwh": 40, "power_kw": 10, "earliest_start": "06:00", "deadline": "18:00",
         "interruptible": True, "min_run_minutes": min_run_minutes}]}])


def runs_of(power_kw: np.ndarray) -> list[int]:
    """Lengths of the stretches with the load on."""
    on = np.concatenate([[0], (power_kw > 1e-6).astype(int), [0]])
    edges = np.flatnonzero(np.diff(on))
    return [int(b - a) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def test_without_a_minimum_it_runs_in_every_pv_hour_and_costs_nothing() -> None:
    model = mill(60)
    plan = plan_district(model, forecast(model, pv=PV), start_ms=DAY_MS)
    wash = plan.asset("mill", "wash").power_kw
    assert np.flatnonzero(wash > 1e-6).tolist() == [8, 10, 12, 14]
    assert plan.objective_eur == pytest.approx(0.0, abs=1e-3)


def test_with_a_two_hour_minimum_every_run_lasts_two_hours() -> None:
    model = mill(120)
    plan = plan_district(model, forecast(model, pv=PV), start_ms=DAY_MS)
    assert plan.status is PlanStatus.OPTIMAL
    wash = plan.asset("mill", "wash").power_kw
    assert wash.sum() == pytest.approx(40.0)
    assert set(np.round(wash[wash > 1e-6], 6)) == {10.0}
    assert all(length >= 2 for length in runs_of(wash)), wash
    # Any 4 hours in runs of 2 or more cover at most 2 of the PV hours (they are 2 h apart):
    # 2 hours imported at 0.25 EUR/kWh, 2 PV hours exported at 0.10: 5.0 - 2.0 EUR.
    assert plan.objective_eur == pytest.approx(3.0, abs=1e-3)


def test_a_run_going_on_continues_until_it_has_lasted_the_minimum() -> None:
    model = mill(120)
    start = DAY_MS + 7 * H_MS  # 07:00; the wash has run since 06:00 (10 kWh)
    state = LiveState(load_delivered_kwh={("mill", "wash"): 10.0}, load_run_kwh={("mill", "wash"): 10.0})
    pv = {0: {t - 7: v for t, v in PV[0].items()}}
    plan = plan_district(model, forecast(model, pv=pv, start_ms=start), state, start_ms=start)
    wash = plan.asset("mill", "wash").power_kw
    assert wash[0] == pytest.approx(10.0)  # the second hour of the run begun at 06:00
    assert wash.sum() == pytest.approx(30.0)
    lengths = runs_of(wash)
    assert lengths[0] >= 1 and all(length >= 2 for length in lengths[1:]), wash
    # 07:00 imported, then a run of 2 h covering one PV hour: 2 h imported, 3 PV hours exported.
    assert plan.objective_eur == pytest.approx(2 * 2.5 - 3 * 1.0, abs=1e-3)
