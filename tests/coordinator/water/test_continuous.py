"""Continuous-flow alarm: flow that never drops to zero for N hours."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.water import ContinuousFlowSettings, continuous_flow
from tests.coordinator.water.months import local_s, quiet_month

H24 = ContinuousFlowSettings(hours=24)


def test_a_plant_whose_nights_drop_to_zero_never_alarms() -> None:
    t, flow = quiet_month()
    # Checked as the coordinator would: every hour, on the data seen so far.
    for end in range(24 * 60, t.size, 60):
        assert continuous_flow(t[:end], flow[:end], settings=H24) is None


def test_a_leak_that_keeps_the_meter_turning_alarms_after_n_hours() -> None:
    start = local_s(10, 2.0)
    t, flow = quiet_month(leak_m3h=0.4, leak_from_s=start)
    before = t < start + 23.5 * 3600
    assert continuous_flow(t[before], flow[before], settings=H24) is None
    until = t < start + 30 * 3600
    run = continuous_flow(t[until], flow[until], settings=H24)
    assert run is not None
    assert start <= run.flowing_since_s <= start + 60
    assert run.hours == pytest.approx(30, abs=0.05)
    assert run.min_flow_m3h >= 0.4


def test_a_gap_in_the_data_is_no_evidence_of_flow() -> None:
    t = np.arange(0, 30 * 3600, 60, dtype=np.float64)
    flow = np.full_like(t, 2.0)
    assert continuous_flow(t, flow, settings=H24) is not None
    holed = (t < 10 * 3600) | (t > 11 * 3600)
    assert continuous_flow(t[holed], flow[holed], settings=H24) is None


def test_nan_readings_are_ignored_and_shapes_must_match() -> None:
    t = np.arange(0, 25 * 3600, 60, dtype=np.float64)
    flow = np.full_like(t, 1.0)
    flow[::7] = np.nan
    assert continuous_flow(t, flow, settings=H24) is not None
    with pytest.raises(ValueError, match="shape"):
        continuous_flow(t, flow[:-1])
