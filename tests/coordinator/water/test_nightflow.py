"""Minimum night flow on a simulated month: a night leak is found within two nights, a clean
month raises nothing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from coordinator.water import NightFlowSettings, analyse_nights, night_windows, rolling_hour_minimum
from tests.coordinator.water.months import ROME, START, local_s, quiet_month, simulator_month

LEAK_NIGHT = 16  # the leak starts at 23:30 on day 16 of the month


def flagged(nights: list) -> list[date]:
    return [n.night for n in nights if n.leak]


def test_a_clean_simulated_month_flags_no_night() -> None:
    t, flow = simulator_month()
    nights = analyse_nights(t, flow, quiet_start="22:00", quiet_end="05:00", timezone=ROME)
    assert len(nights) == 29
    assert flagged(nights) == []
    # The simulator's plant keeps a base flow at night: the baseline learns it.
    assert nights[-1].baseline_m3h == pytest.approx(1.76, rel=0.1)


@pytest.mark.parametrize("leak_m3h", [1.5, 0.8])
def test_the_simulators_night_leak_is_found_within_two_nights(leak_m3h: float) -> None:
    t, flow = simulator_month(leak_m3h=leak_m3h, leak_from_s=local_s(LEAK_NIGHT, 23.5))
    nights = analyse_nights(t, flow, quiet_start="22:00", quiet_end="05:00", timezone=ROME)
    leak_night = date(START.year, START.month, START.day + LEAK_NIGHT - 1)
    found = flagged(nights)
    assert found, "the leak was never flagged"
    assert found[0] in (leak_night, date.fromordinal(leak_night.toordinal() + 1))
    assert all(n.night >= leak_night for n in nights if n.leak)  # nothing before it
    # A leak that stays is not learnt as the new normal: every later night stays flagged.
    assert found == [n.night for n in nights if n.night >= found[0]]


def test_a_plant_whose_nights_drop_to_zero_shows_a_small_leak() -> None:
    clean = analyse_nights(*quiet_month(), quiet_start="22:30", quiet_end="05:30", timezone=ROME)
    assert flagged(clean) == []
    t, flow = quiet_month(leak_m3h=0.3, leak_from_s=local_s(LEAK_NIGHT, 1.0))
    nights = analyse_nights(t, flow, quiet_start="22:30", quiet_end="05:30", timezone=ROME)
    # It starts at 1 a.m. inside the night of day 15, whose quietest hour came before it:
    # the next night, the first one that leaks from start to end, is flagged.
    assert flagged(nights)[0] == date(START.year, START.month, START.day + LEAK_NIGHT - 1)


def test_quiet_windows_span_midnight_in_local_time() -> None:
    windows = night_windows(start_s=local_s(1, 0), end_s=local_s(4, 0), quiet_start="22:00",
                            quiet_end="05:00", timezone=ROME)
    assert [(w[0].day, (w[2] - w[1]) / 3600) for w in windows] == [(5, 7.0), (6, 7.0)]
    assert windows[0][1] == local_s(1, 22)
    same_day = night_windows(start_s=local_s(1, 0), end_s=local_s(3, 0), quiet_start="01:00",
                             quiet_end="04:00", timezone=ROME)
    assert [w[1] for w in same_day] == [local_s(1, 1), local_s(2, 1)]


def test_the_night_across_the_dst_change_is_an_hour_longer() -> None:
    # 25 October 2026: clocks go back at 03:00, so 22:00-05:00 lasts 8 hours.
    windows = night_windows(start_s=local_s(20, 0), end_s=local_s(21, 12), quiet_start="22:00",
                            quiet_end="05:00", timezone=ROME)
    assert windows[0][0] == date(2026, 10, 24) and (windows[0][2] - windows[0][1]) / 3600 == 8.0


def test_a_night_with_a_gap_in_every_hour_has_no_minimum() -> None:
    t = np.arange(0, 7 * 3600, 60, dtype=np.float64)
    flow = np.ones_like(t)
    holed = (t % 3000) < 1500  # the meter is silent for 25 minutes out of every 50
    assert rolling_hour_minimum(t, flow, start_s=0, end_s=7 * 3600) == pytest.approx(1.0)
    assert rolling_hour_minimum(t[holed], flow[holed], start_s=0, end_s=7 * 3600) is None


def test_a_new_meter_learns_before_it_alerts() -> None:
    t, flow = simulator_month(days=4, leak_m3h=3.0, leak_from_s=local_s(2, 23.5))
    nights = analyse_nights(t, flow, quiet_start="22:00", quiet_end="05:00", timezone=ROME,
                            settings=NightFlowSettings(min_baseline_nights=3))
    assert all(n.baseline_m3h is None and not n.leak for n in nights)


def test_mismatched_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        analyse_nights(np.zeros(3), np.zeros(4), quiet_start="22:00", quiet_end="05:00", timezone=ROME)
