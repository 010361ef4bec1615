"""Flexible-load progress from applied setpoints: hand-computed energy and the running flag."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from coordinator.load_progress import LoadProgress
from nzd.config import DistrictConfig

TZ = ZoneInfo("Europe/Rome")

def at(hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 11, 25, hour, minute, tzinfo=TZ).timestamp() * 1000)


def progress() -> LoadProgress:
    return LoadProgress(district=DistrictConfig.model_validate({
        "district": "d", "timezone": "Europe/Rome",
        "sites": [{"id": "mill", "name": "Mill", "flexible_loads": [
            {"id": "batch", "energy_kwh": 40, "power_kw": 20, "earliest_start": "08:00", "deadline": "20:00",
             "asset": "dyeing"},
            {"id": "wash", "energy_kwh": 10, "power_kw": 10, "interruptible": True}]}]}))


def test_a_newer_setpoint_takes_over_and_the_batch_is_running() -> None:
    p = progress()
    p.applied(site="mill", asset="dyeing", valid_from_ms=at(10), valid_until_ms=at(10, 30), power_w=20_000)
    p.applied(site="mill", asset="dyeing", valid_from_ms=at(10, 15), valid_until_ms=at(10, 45),
              power_w=10_000)
    p.applied(site="mill", asset="wash", valid_from_ms=at(10), valid_until_ms=at(10, 30), power_w=10_000)
    status = p.status(start_ms=at(10, 30))
    # 20 kW for 15 min, then 10 kW for 15 min; the wash ran 30 min at 10 kW.
    assert status.delivered_kwh[("mill", "batch")] == pytest.approx(7.5)
    assert status.delivered_kwh[("mill", "wash")] == pytest.approx(5.0)
    assert status.running == frozenset({("mill", "batch")})  # an interruptible load is never "running"


def test_a_fallback_stops_it_and_nothing_counts_outside_the_window() -> None:
    p = progress()
    p.applied(site="mill", asset="dyeing", valid_from_ms=at(10), valid_until_ms=at(10, 30), power_w=20_000)
    p.stopped(site="mill", asset="dyeing", at_ms=at(10, 6))
    status = p.status(start_ms=at(10, 30))
    assert status.delivered_kwh[("mill", "batch")] == pytest.approx(2.0)  # 20 kW for 6 minutes
    assert status.running == frozenset()
    assert ("mill", "batch") not in p.status(start_ms=at(7, 45)).delivered_kwh  # window not open yet
    assert p.status(start_ms=at(10, 30) + 86_400_000).delivered_kwh[("mill", "batch")] == 0.0  # next day
    p.applied(site="mill", asset="unknown", valid_from_ms=at(10), valid_until_ms=at(11), power_w=1.0)
    assert set(p.status(start_ms=at(10, 30)).delivered_kwh) == {("mill", "batch"), ("mill", "wash")}


def test_the_run_going_on_of_an_interruptible_load_is_measured_back_to_its_start() -> None:
    p = progress()
    # The wash ran 09:00-09:30, paused, then runs again from 10:00 at 10 kW then 5 kW.
    p.applied(site="mill", asset="wash", valid_from_ms=at(9), valid_until_ms=at(9, 30), power_w=10_000)
    p.applied(site="mill", asset="wash", valid_from_ms=at(10), valid_until_ms=at(10, 30), power_w=10_000)
    p.applied(site="mill", asset="wash", valid_from_ms=at(10, 15), valid_until_ms=at(10, 45), power_w=5_000)
    status = p.status(start_ms=at(10, 30))
    assert status.delivered_kwh[("mill", "wash")] == pytest.approx(5.0 + 2.5 + 1.25)
    assert status.run_kwh == {("mill", "wash"): pytest.approx(2.5 + 1.25)}  # since 10:00 only
    assert ("mill", "wash") not in status.running  # "running" is for batches that may not stop
    # Once its setpoint has expired it is not running: no run to continue.
    assert p.status(start_ms=at(11)).run_kwh == {}
