"""Issue 20, night flow as a utility reads it: a firm with 0.15 m3/h of legitimate night use,
small leaks found within two nights with their volume, declared night shifts kept apart."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from coordinator.water import NightFlowSettings, NightType, analyse_nights, leakage_m3_per_day, night_type
from tests.coordinator.water.months import ROME, START, FloatArray, local_s

LEGIT_M3H = 0.15
LEAK_DAY = 15  # the leak starts at 14:00 on day 15 (a Monday), mid-shift


def firm_month(*, days: int = 28, leak_m3h: float = 0.0, leak_from_s: float | None = None,
               shift_days: tuple[int, ...] = (), seed: int = 5) -> tuple[FloatArray, FloatArray]:
    """One-minute flow: 12 m3/h from 06:00 to 22:00 on workdays, 0.15 m3/h of legitimate night use
    (+-3 % meter noise), 8 m3/h through 22:00-06:00 on the nights of ``shift_days``."""
    rng = np.random.default_rng(seed)
    t = START.timestamp() + np.arange(days * 1440, dtype=np.float64) * 60
    local = [datetime.fromtimestamp(x, ZoneInfo(ROME)) for x in t]
    day_no = np.array([(d.date() - START.date()).days + 1 for d in local])
    hour = np.array([d.hour for d in local])
    workday = np.array([d.weekday() < 5 for d in local])
    flow = np.where(workday & (hour >= 6) & (hour < 22), 12.0, LEGIT_M3H)
    for day in shift_days:
        flow = np.where(((day_no == day) & (hour >= 22)) | ((day_no == day + 1) & (hour < 6)), 8.0, flow)
    flow = flow * (1 + 0.03 * rng.standard_normal(t.size))
    if leak_from_s is not None:
        flow[t >= leak_from_s] += leak_m3h
    return t, flow


def day(n: int) -> date:
    return START.date() + timedelta(days=n - 1)


@pytest.mark.parametrize("leak_m3h", [0.2, 0.5, 2.0])
def test_small_leaks_are_found_within_two_nights_with_their_volume(leak_m3h: float) -> None:
    start_s = local_s(LEAK_DAY, 14)
    t, flow = firm_month(leak_m3h=leak_m3h, leak_from_s=start_s)
    nights = analyse_nights(t, flow, quiet_start="22:00", quiet_end="05:00", timezone=ROME,
                            legit_night_use_m3h=LEGIT_M3H)
    found = [n for n in nights if n.leak]
    assert found and all(n.night >= day(LEAK_DAY) for n in found)
    first = found[0]
    assert first.end_s - start_s <= 48 * 3600  # found within two nights
    # Hand computation: MNF = 0.15 + leak, so (MNF - 0.15) x 24 h = the leak's volume per day.
    truth = leak_m3h * 24
    assert first.leakage_m3_per_day == pytest.approx(truth, rel=0.10)
    # Threshold at the default settings: 0.15 x 1.25 + 0.1 = 0.2875 m3/h, below 0.15 + 0.2.
    assert first.threshold_m3h == pytest.approx(0.2875, abs=0.01)


def test_an_early_warning_comes_during_the_night() -> None:
    t, flow = firm_month(leak_m3h=0.5, leak_from_s=local_s(LEAK_DAY, 14))
    # At 01:30 the quiet window 22:00-05:00 has run 3.5 h: the lowest hour so far is the leak's.
    now_s = local_s(LEAK_DAY + 1, 1.5)
    nights = analyse_nights(t[t <= now_s], flow[t <= now_s], quiet_start="22:00", quiet_end="05:00",
                            timezone=ROME, legit_night_use_m3h=LEGIT_M3H, now_s=now_s)
    last = nights[-1]
    assert last.in_progress and last.leak and last.night == day(LEAK_DAY)
    assert last.leakage_m3_per_day == pytest.approx(12.0, rel=0.1)
    # At 00:30 the window has run only 2.5 h: no judgement yet on that night.
    early = local_s(LEAK_DAY + 1, 0.5)
    nights = analyse_nights(t[t <= early], flow[t <= early], quiet_start="22:00", quiet_end="05:00",
                            timezone=ROME, now_s=early)
    assert not nights[-1].in_progress


def test_declared_night_shifts_raise_no_alarm_and_do_not_raise_the_baseline() -> None:
    shifts = (10, 12)  # a Wednesday and a Friday night of a month starting on a Monday
    t, flow = firm_month(shift_days=shifts)
    declared = {day(d) for d in shifts}
    nights = analyse_nights(t, flow, quiet_start="22:00", quiet_end="05:00", timezone=ROME,
                            shift_nights=declared, legit_night_use_m3h=LEGIT_M3H)
    assert [n for n in nights if n.leak] == []
    by_night = {n.night: n for n in nights}
    assert {by_night[d].night_type for d in declared} == {NightType.SHIFT}
    # The normal nights' baseline stays at the legitimate use: the shifts' 8 m3/h is not learnt.
    after = [n for n in nights if n.night > day(13) and n.night_type is NightType.WEEKDAY]
    assert after and all(n.baseline_m3h == pytest.approx(LEGIT_M3H, rel=0.05) for n in after)
    # Undeclared, the same shifts are alarms.
    undeclared = analyse_nights(t, flow, quiet_start="22:00", quiet_end="05:00", timezone=ROME)
    assert {n.night for n in undeclared if n.leak} == declared


def test_weekend_nights_have_their_own_type() -> None:
    assert night_type(date(2026, 10, 9)) is NightType.WEEKEND  # Friday night
    assert night_type(date(2026, 10, 10)) is NightType.WEEKEND  # Saturday night
    assert night_type(date(2026, 10, 11)) is NightType.WEEKDAY  # Sunday night: work on Monday
    assert night_type(date(2026, 10, 11), shifts={date(2026, 10, 11)}) is NightType.SHIFT


def test_leakage_is_night_flow_above_legitimate_use_times_the_hour_day_factor() -> None:
    assert leakage_m3_per_day(0.65, legit_night_use_m3h=0.15, hour_day_factor_h=20) == pytest.approx(10.0)
    assert leakage_m3_per_day(0.1, legit_night_use_m3h=0.15, hour_day_factor_h=24) == 0.0


def test_shift_nights_are_judged_against_their_own_baseline_only_when_asked() -> None:
    # Shifts on six nights, then a 3 m3/h leak: by default the shift nights are never judged ...
    shifts = (8, 9, 10, 15, 16, 17)
    t, flow = firm_month(shift_days=shifts, leak_m3h=3.0, leak_from_s=local_s(14, 12))
    declared = {day(d) for d in shifts}
    kw = {"quiet_start": "22:00", "quiet_end": "05:00", "timezone": ROME, "shift_nights": declared}
    plain = analyse_nights(t, flow, **kw)  # type: ignore[arg-type]
    assert not any(n.leak for n in plain if n.night_type is NightType.SHIFT)
    assert all(n.threshold_m3h is None for n in plain if n.night_type is NightType.SHIFT)
    # ... on request, once three shift nights are learnt (8 m3/h), a shift night with the leak
    # (11 m3/h, above 8 x 1.25 + 0.1 = 10.1) is flagged.
    judged = analyse_nights(t, flow, settings=NightFlowSettings(judge_shift_nights=True), **kw)  # type: ignore[arg-type]
    flagged = {n.night for n in judged if n.leak and n.night_type is NightType.SHIFT}
    assert flagged == {day(15), day(16), day(17)}
