"""Energy per interval from cumulative counters, against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nzd.accounting import (
    counter_increments,
    counter_per_interval,
    energy_per_interval,
    interval_edges,
    volume_per_interval,
)

Q_MS = 900_000  # a quarter of an hour
EDGES_2Q = [0, Q_MS, 2 * Q_MS]


def test_steady_counter_gives_its_differences() -> None:
    e = energy_per_interval([0, Q_MS, 2 * Q_MS], [100.0, 110.0, 125.0], EDGES_2Q)
    assert e.tolist() == [10.0, 15.0]
    e_end = energy_per_interval([0, Q_MS, 2 * Q_MS], [100.0, 110.0, 125.0], EDGES_2Q, spread="end")
    assert e_end.tolist() == [10.0, 15.0]


def test_reset_counts_the_new_value_from_zero() -> None:
    # Every 5 minutes; the meter is replaced between 10 and 15 minutes and reads 3 Wh at 15.
    t = [0, 300_000, 600_000, 900_000, 1_200_000, 1_500_000, 1_800_000]
    v = [100.0, 105.0, 110.0, 3.0, 8.0, 13.0, 18.0]
    assert counter_increments(v).tolist() == [5.0, 5.0, 3.0, 5.0, 5.0, 5.0]
    assert energy_per_interval(t, v, EDGES_2Q).tolist() == [13.0, 15.0]
    assert energy_per_interval(t, v, EDGES_2Q, spread="end").tolist() == [13.0, 15.0]


def test_rollover_wraps_at_the_modulus_and_a_large_drop_is_a_reset() -> None:
    assert counter_increments([990.0, 995.0, 5.0], modulus=1000.0).tolist() == [5.0, 10.0]
    # 990 -> 600 would be a wrap of 610, more than half the register: a reset instead.
    assert counter_increments([990.0, 600.0], modulus=1000.0).tolist() == [600.0]
    # Without a modulus every drop is a reset.
    assert counter_increments([990.0, 995.0, 5.0]).tolist() == [5.0, 5.0]
    # A 32-bit register scaled by 0.1 Wh.
    modulus = 2**32 * 0.1
    inc = counter_increments([modulus - 1.0, 2.0], modulus=modulus)
    assert inc == pytest.approx([3.0])


def test_gap_is_spread_in_proportion_or_counted_where_it_appears() -> None:
    # Readings at 0 and 15 min, then nothing until 60 min: 30 Wh over three quarters.
    t = [0, Q_MS, 4 * Q_MS]
    v = [100.0, 110.0, 140.0]
    edges = interval_edges(start_ms=0, end_ms=4 * Q_MS, step_ms=Q_MS)
    assert energy_per_interval(t, v, edges).tolist() == [10.0, 10.0, 10.0, 10.0]
    assert energy_per_interval(t, v, edges, spread="end").tolist() == [10.0, 0.0, 0.0, 30.0]


def test_reset_inside_a_gap() -> None:
    # 100 at 0, then the next reading 45 min later is 30 (reset): 30 Wh over three quarters.
    e = energy_per_interval([0, 3 * Q_MS], [100.0, 30.0], [0, Q_MS, 2 * Q_MS, 3 * Q_MS])
    assert e.tolist() == [10.0, 10.0, 10.0]


def test_readings_off_the_edges_are_interpolated() -> None:
    # 0 Wh at 7.5 min, 10 Wh at 22.5 min: half of it in each quarter.
    assert energy_per_interval([450_000, 1_350_000], [0.0, 10.0], EDGES_2Q).tolist() == [5.0, 5.0]
    # Before the first and after the last reading nothing is known: zero.
    e = energy_per_interval([Q_MS, 2 * Q_MS], [0.0, 10.0], [0, Q_MS, 2 * Q_MS, 3 * Q_MS])
    assert e.tolist() == [0.0, 10.0, 0.0]


def test_duplicates_unsorted_input_and_nan_change_nothing() -> None:
    t = [2 * Q_MS, Q_MS, 0, Q_MS, 1_000_000]
    v = [20.0, 10.0, 0.0, 10.0, float("nan")]
    assert energy_per_interval(t, v, EDGES_2Q).tolist() == [10.0, 10.0]


def test_small_drops_within_tolerance_are_noise() -> None:
    inc = counter_increments([100.0, 99.9995, 101.0], reset_tolerance=0.001)
    assert inc == pytest.approx([0.0, 1.0005])


def test_volume_is_the_same_arithmetic() -> None:
    v = volume_per_interval([0, Q_MS, 2 * Q_MS], [5.0, 5.5, 1.0], EDGES_2Q)
    assert v.tolist() == [0.5, 1.0]


def test_too_few_readings_give_zero() -> None:
    assert energy_per_interval([], [], EDGES_2Q).tolist() == [0.0, 0.0]
    assert energy_per_interval([0], [5.0], EDGES_2Q).tolist() == [0.0, 0.0]


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        energy_per_interval([0, 1], [0.0, 1.0], [10, 5])
    with pytest.raises(ValueError, match="equal length"):
        energy_per_interval([0, 1], [0.0], EDGES_2Q)
    with pytest.raises(ValueError, match="multiple of step_ms"):
        interval_edges(start_ms=0, end_ms=1000, step_ms=300)
    with pytest.raises(ValueError, match="spread"):
        counter_per_interval([0, 1], [0.0, 1.0], EDGES_2Q, spread="middle")  # type: ignore[arg-type]


@given(
    st.lists(st.tuples(st.integers(0, 10 * Q_MS), st.floats(0, 1e6)), min_size=2, max_size=50),
    st.sampled_from(["linear", "end"]),
)
def test_intervals_covering_all_readings_sum_to_the_total_increase(
    readings: list[tuple[int, float]], spread: str
) -> None:
    readings.sort(key=lambda r: r[0])
    t = np.array([r[0] for r in readings])
    v = np.array([r[1] for r in readings])
    edges = interval_edges(start_ms=-Q_MS, end_ms=11 * Q_MS, step_ms=Q_MS)
    per = counter_per_interval(t, v, edges, spread=spread)  # type: ignore[arg-type]
    assert (per >= 0).all()
    assert per.sum() == pytest.approx(counter_increments(v).sum(), rel=1e-9, abs=1e-6)
