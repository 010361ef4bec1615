"""Which counter readings may bound an interval: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from nzd.accounting import CounterRules, clean_counter, counter_intervals

Q = 900_000  # 15 minutes
H = 4 * Q


def _totals(values: list[float], flagged: list[bool] | None = None, **rules: float):  # type: ignore[no-untyped-def]
    times = [k * Q for k in range(len(values))]
    return clean_counter(times, values, flagged, rules=CounterRules(**rules))


def test_a_flagged_reading_is_never_a_bound() -> None:
    c = _totals([1000.0, 1010.0, 0.0, 1030.0], [False, False, True, False])
    assert c.cumulative.tolist() == [0.0, 10.0, 30.0]
    assert c.events == {"flagged": [2 * Q]}


def test_a_small_drop_is_noise_and_the_reference_stays() -> None:
    c = _totals([1000.0, 999.5, 1010.0])
    assert c.cumulative[-1] == 10.0  # not 10.5: the dip is not counted twice
    assert c.events == {"noise": [Q]}


def test_a_large_drop_is_a_reset_counted_from_zero() -> None:
    c = _totals([5_000_000.0, 5_002_500.0, 2_500.0, 5_000.0])
    assert c.cumulative.tolist() == [0.0, 2500.0, 5000.0, 7500.0]
    assert c.events == {"reset": [2 * Q]}


def test_a_declared_rollover_wraps() -> None:
    m = 2**32 * 0.1
    c = _totals([m - 1000.0, 1500.0, 4000.0], modulus=m)
    assert c.cumulative == pytest.approx([0.0, 2500.0, 5000.0], abs=1e-6)
    assert c.events == {"rollover": [Q]}


def test_a_spike_above_the_rated_power_is_rejected() -> None:
    # 100 kW rated: at most 25 kWh in 15 minutes.
    c = _totals([1000.0, 5_000_000.0, 3500.0], max_rate_per_h=100_000.0)
    assert c.cumulative.tolist() == [0.0, 2500.0]
    assert c.events == {"excess": [Q]}


def test_a_confirmed_jump_counts_only_what_the_meter_could_deliver() -> None:
    c = _totals([1000.0, 101_000.0, 103_500.0], max_rate_per_h=100_000.0)
    assert c.cumulative.tolist() == [0.0, 25_000.0, 27_500.0]
    assert c.events == {"excess": [Q]}


def test_energy_across_a_gap_is_spread_by_time() -> None:
    times = [0, H, 3 * H, 4 * H]
    values = [0.0, 10.0, 30.0, 40.0]
    res = counter_intervals(times, values, np.arange(0, 4 * H + 1, H))
    assert res.amount.tolist() == [10.0, 10.0, 10.0, 10.0]
    assert res.covered.tolist() == [True, False, False, True]
    outside = counter_intervals(times, values, np.arange(4 * H, 6 * H + 1, H))
    assert np.isnan(outside.amount).all() and not outside.covered.any()


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="reset_fraction"):
        CounterRules(reset_fraction=0)
    with pytest.raises(ValueError, match="modulus"):
        CounterRules(modulus=-1)
