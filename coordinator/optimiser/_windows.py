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

__all__ = ["Runs", "earliest_schedule", "load_runs"]


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
    follows: IntArray
    """For a block of an interruptible load with a minimum run time: the run it must start after
    (that run's start plus its length); -1 otherwise."""
    group: IntArray
    """Runs of one group are alternatives (the same batch at different power levels): exactly one
    of them happens. The group is the index of its first run; a run alone is its own group."""

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
    rows: list[tuple[int, int, int, float, int, float, bool, bool, int, int]] = []
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
            min_steps = math.ceil(float(loads.min_run_minutes[f]) / model.step_minutes - 1e-9)
            if loads.interruptible[f] and not unavailable:
                run_kwh = state.load_run_kwh.get(key) if current else None
                blocks = _blocks(energy=energy, power_kw=power, dt_h=dt, min_steps=min_steps, window=window,
                                 run_steps_done=None if run_kwh is None else math.floor(
                                     run_kwh / (power * dt) + 1e-9))
                if blocks is None:  # free in every step: no minimum run time to keep
                    energy = min(energy, power * dt * window)
                    rows.append((f, first, stop, energy, 0, power, True, False, -1, len(rows)))
                    continue
                lengths, head_forced = blocks
                total = sum(lengths)
                power_eff = min(power, energy / (total * dt))
                for i, length in enumerate(lengths):
                    rows.append((f, first, stop, power_eff * length * dt, length, power_eff, False,
                                 head_forced and i == 0, len(rows) - 1 if i > 0 else -1, len(rows)))
                continue
            continuing = current and key in state.load_running
            # A load out of our control runs at its local default: as soon as its window opens.
            forced = continuing or unavailable
            levels = loads.levels_kw(f)
            if continuing:  # a started batch keeps its power (read back: within the load's levels)
                running_kw = float(state.load_power_kw.get(key, power))
                power = min(running_kw, max(levels)) if running_kw > 0 else power
                # The minimum run time counts from the batch's start: the steps already run served it.
                done_steps = math.floor(float(state.load_delivered_kwh.get(key, 0.0)) / (power * dt) + 1e-9)
                min_steps = max(min_steps - done_steps, 0)
            if forced:
                levels = (power,)
            group = len(rows)
            for level in levels:  # one alternative per power level; the plan picks one
                length = min(max(math.ceil(energy / (level * dt) - 1e-9), min_steps, 1), window)
                power_eff = min(level, energy / (length * dt))
                rows.append((f, first, stop, power_eff * length * dt, length, power_eff, False, forced, -1,
                             group))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 10
    return Runs(
        load=np.asarray(cols[0], dtype=np.int64),
        first=np.asarray(cols[1], dtype=np.int64),
        stop=np.asarray(cols[2], dtype=np.int64),
        energy_kwh=np.asarray(cols[3], dtype=np.float64),
        run_steps=np.asarray(cols[4], dtype=np.int64),
        power_kw=np.asarray(cols[5], dtype=np.float64),
        interruptible=np.asarray(cols[6], dtype=np.bool_),
        forced=np.asarray(cols[7], dtype=np.bool_),
        follows=np.asarray(cols[8], dtype=np.int64),
        group=np.asarray(cols[9], dtype=np.int64),
    )


def _blocks(*, energy: float, power_kw: float, dt_h: float, min_steps: int, window: int,
            run_steps_done: int | None) -> tuple[list[int], bool] | None:
    """An interruptible load with a minimum run time as blocks of steps, each at least
    ``min_steps`` long, placed freely but in order and apart; None when any step pattern is
    allowed (a minimum of one step). ``run_steps_done``: the steps of the run going on now, if
    one is; it continues first until it has lasted ``min_steps`` (a forced head block).

    Splitting ``n`` steps into ``n // min_steps`` blocks (the last one takes the remainder)
    keeps every run at least ``min_steps`` long and lets the load pause between blocks; two
    blocks placed back to back make one longer run. Fewer than ``2 * min_steps`` steps are
    one run, as for a non-interruptible load."""
    if min_steps <= 1:
        return None
    n = max(math.ceil(energy / (power_kw * dt_h) - 1e-9), 1)
    head = 0 if run_steps_done is None else max(min_steps - run_steps_done, 0)
    if head > 0:
        rest = n - head
        if rest < min_steps:  # what is left could not be a run of its own: the running one takes it
            return [min(max(n, head), window)], True
        return [head, *_split(rest, min_steps)], True
    if n < 2 * min_steps or n > window:
        return [min(max(n, min_steps), window)], False
    return _split(n, min_steps), False


def _split(n: int, min_steps: int) -> list[int]:
    count = n // min_steps
    return [min_steps] * (count - 1) + [n - (count - 1) * min_steps]


def earliest_schedule(runs: Runs, *, loads: int, steps: int, dt_h: float) -> FloatArray:
    """[load, step] power with every run as early as its window allows (the loads' own local
    behaviour: the safe mode and the uncoordinated counterfactual). Interruptible runs go at full
    power and then the remainder; a block starts after the block it follows."""
    flex = np.zeros((loads, steps))
    end_of = np.zeros(runs.count, dtype=np.int64)
    for r in range(runs.count):
        f, first, stop = runs.load[r], int(runs.first[r]), int(runs.stop[r])
        if runs.group[r] != r:
            continue  # an alternative power level: the load's own behaviour is its default
        if runs.interruptible[r]:
            full = int(runs.energy_kwh[r] // (runs.power_kw[r] * dt_h))
            flex[f, first:min(stop, first + full)] = runs.power_kw[r]
            rest = runs.energy_kwh[r] - full * runs.power_kw[r] * dt_h
            if first + full < stop and rest > 1e-9:
                flex[f, first + full] = rest / dt_h
            continue
        begin = first if runs.follows[r] < 0 else max(first, int(end_of[runs.follows[r]]))
        end = min(stop, begin + int(runs.run_steps[r]))
        flex[f, begin:end] = runs.power_kw[r]
        end_of[r] = end
    return flex
