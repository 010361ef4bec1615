"""Flexible-load windows within the horizon: which runs must happen where.

A load's window (earliest start .. deadline, local time) recurs daily. A window
is planned when its deadline falls inside the horizon and it has not ended; a
window already open at the start of the horizon delivers only what is left
(``LiveState.load_delivered_kwh``). Windows whose deadline lies beyond the
horizon are left to a later planning step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.model import BoolArray, DistrictModel, FloatArray, IntArray
from coordinator.optimiser._types import LiveState

__all__ = ["Runs", "load_runs"]


@dataclass(frozen=True, slots=True)
class Runs:
    """One entry per run to plan (a load may have several in a long horizon)."""

    load: IntArray
    first: IntArray
    """First step the run may use."""
    stop: IntArray
    """One past the last step it may use."""
    energy_kwh: FloatArray
    run_steps: IntArray
    """Non-interruptible: the run's length in steps."""
    power_kw: FloatArray
    """Non-interruptible: its constant power; interruptible: its maximum power."""
    interruptible: BoolArray
    forced: BoolArray
    """The run starts at ``first``: it is running now, or the load is out of our control."""

    @property
    def count(self) -> int:
        return len(self.load)


def _midnights_ms(start_ms: int, steps: int, step_minutes: int, tz: str) -> list[int]:
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(start_ms / 1000, tz=zone).date() - timedelta(days=1)
    days = math.ceil(steps * step_minutes / 1440) + 2
    return [int(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp() * 1000)
            for d in (first + timedelta(days=k) for k in range(days + 1))]


def load_runs(model: DistrictModel, state: LiveState, *, start_ms: int, steps: int) -> Runs:
    loads = model.loads
    step_ms = model.step_minutes * 60_000
    dt = model.step_h
    rows: list[tuple[int, int, int, float, int, float, bool, bool]] = []
    midnights = _midnights_ms(start_ms, steps, model.step_minutes, model.timezone) if loads.count else []
    for f in range(loads.count):
        key = (model.site_ids[loads.site_index[f]], loads.ids[f])
        for midnight in midnights:
            ws = midnight + int(loads.earliest_start_min[f]) * 60_000
            we = midnight + int(loads.deadline_min[f]) * 60_000
            if we <= start_ms or we > start_ms + steps * step_ms:
                continue
            first = max(0, -(-(ws - start_ms) // step_ms))
            stop = min(steps, (we - start_ms) // step_ms)
            energy = float(loads.energy_kwh[f])
            current = ws < start_ms
            if current:
                energy -= float(state.load_delivered_kwh.get(key, 0.0))
            if energy <= 1e-9 or stop <= first:
                continue
            power = float(loads.power_kw[f])
            window = stop - first
            unavailable = key in state.unavailable
            if loads.interruptible[f] and not unavailable:
                energy = min(energy, power * dt * window)
                rows.append((f, first, stop, energy, 0, power, True, False))
                continue
            min_steps = math.ceil(float(loads.min_run_minutes[f]) / model.step_minutes - 1e-9)
            continuing = current and key in state.load_running
            if continuing:
                # The minimum run time counts from the batch's start: the steps already run served it.
                done_steps = math.floor(float(state.load_delivered_kwh.get(key, 0.0)) / (power * dt) + 1e-9)
                min_steps = max(min_steps - done_steps, 0)
            length = max(math.ceil(energy / (power * dt) - 1e-9), min_steps, 1)
            length = min(length, window)
            power_eff = min(power, energy / (length * dt))
            # A load out of our control runs at its local default: as soon as its window opens.
            forced = continuing or unavailable
            rows.append((f, first, stop, power_eff * length * dt, length, power_eff, False, forced))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 8
    return Runs(
        load=np.asarray(cols[0], dtype=np.int64),
        first=np.asarray(cols[1], dtype=np.int64),
        stop=np.asarray(cols[2], dtype=np.int64),
        energy_kwh=np.asarray(cols[3], dtype=np.float64),
        run_steps=np.asarray(cols[4], dtype=np.int64),
        power_kw=np.asarray(cols[5], dtype=np.float64),
        interruptible=np.asarray(cols[6], dtype=np.bool_),
        forced=np.asarray(cols[7], dtype=np.bool_),
    )
