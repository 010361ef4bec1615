"""Offline simulation: plan day after day over a stretch of history and compare with two baselines.

Each day is planned once at its start over 24 hours (not re-planned every 15
minutes: a year stays tractable), executed against what actually happened (the
grid takes any forecast error), and the batteries' and tanks' end state carries
over to the next day. Two baselines run on the same actuals, each with its own state:
the fair one (each firm planned alone with the same optimiser and forecasts, ending
each day where the coordinated plan ended, coordinator/fair_baseline.py) and the
do-nothing counterfactual (coordinator/counterfactual.py).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.counterfactual import counterfactual, execute_plan
from coordinator.fair_baseline import end_levels, fair_baseline
from coordinator.forecast import Forecast, SiteHistory, forecast_district
from coordinator.model import DistrictModel, FloatArray, IntArray
from coordinator.optimiser import AssetKind, LiveState, PlanOptions, plan_district

__all__ = ["DayResult", "Simulation", "read_history_csv", "simulate", "simulated_history", "write_csv",
           "write_png"]

DAY_MS = 86_400_000
ForecastMode = Literal["perfect", "forecast"]


def simulated_history(model: DistrictModel, *, start_ms: int, end_ms: int) -> SiteHistory:
    """Each site's load (its BDEW profile, nzd.series) and PV (nzd.series with TRY weather)."""
    from nzd import series

    step_ms = model.step_minutes * 60_000
    n = (end_ms - start_ms) // step_ms
    mid_s = (start_ms + np.arange(n, dtype=np.int64) * step_ms + step_ms // 2) / 1000.0
    annual = model.annual_load_kwh if model.annual_load_kwh is not None else np.zeros(model.n_sites)
    load = np.stack([series.load_profile_w(model.load_profiles[s] if model.load_profiles else "g1", mid_s,
                                           annual_kwh=float(annual[s]), tz=model.timezone) / 1000.0
                     for s in range(model.n_sites)])
    pv = np.zeros_like(load)
    p = model.pv
    for i in range(p.kwp.size):
        pv[p.site_index[i]] += series.pv_power_w(
            float(p.kwp[i]), mid_s, lat=model.latitude, lon=model.longitude, tilt_deg=float(p.tilt_deg[i]),
            azimuth_deg=float(p.azimuth_deg[i])) / 1000.0
    return SiteHistory(start_ms=start_ms, step_minutes=model.step_minutes, load_kw=load, pv_kw=pv)


def read_history_csv(path: str | Path, model: DistrictModel) -> SiteHistory:
    """``time,site,load_kw,pv_kw`` rows (time: ISO 8601 with offset or epoch ms) on the planning grid."""
    path = Path(path)
    rows: list[tuple[int, int, float, float]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                text = row["time"].strip()
                t = int(text) if text.isdigit() else int(datetime.fromisoformat(text).timestamp() * 1000)
                site = model.site_index(row["site"].strip())
                rows.append((t, site, float(row["load_kw"]), float(row["pv_kw"])))
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}:{line}: {exc!s}") from None
    if not rows:
        raise ValueError(f"{path}: no rows")
    step_ms = model.step_minutes * 60_000
    times = np.asarray([r[0] for r in rows], dtype=np.int64)
    start = int(times.min()) - int(times.min()) % step_ms
    n = int((times.max() - start) // step_ms) + 1
    load = np.full((model.n_sites, n), np.nan)
    pv = np.full((model.n_sites, n), np.nan)
    for t, s, lk, pk in rows:
        load[s, (t - start) // step_ms] = lk
        pv[s, (t - start) // step_ms] = pk
    return SiteHistory(start_ms=start, step_minutes=model.step_minutes, load_kw=load, pv_kw=pv)


@dataclass(frozen=True, slots=True)
class DayResult:
    start_ms: int
    status: str
    solve_time_s: float
    mip_gap: float | None
    cost_eur: float
    shared_kwh: float
    incentive_eur: float
    baseline_cost_eur: float
    """The do-nothing counterfactual's."""
    baseline_shared_kwh: float
    fair_cost_eur: float = float("nan")
    """The fair baseline's (NaN when not computed)."""
    fair_shared_kwh: float = float("nan")


@dataclass(slots=True)
class Simulation:
    """District totals per step (kW) for the coordinated run and the baselines (``baseline``: do-nothing)."""

    step_minutes: int
    days: list[DayResult] = field(default_factory=list)
    times_ms: list[IntArray] = field(default_factory=list)
    columns: dict[str, list[FloatArray]] = field(default_factory=dict)

    def add(self, name: str, values: FloatArray) -> None:
        self.columns.setdefault(name, []).append(values)

    def column(self, name: str) -> FloatArray:
        return np.concatenate(self.columns[name]) if name in self.columns else np.zeros(0)

    @property
    def cost_eur(self) -> float:
        return sum(d.cost_eur for d in self.days)

    @property
    def baseline_cost_eur(self) -> float:
        return sum(d.baseline_cost_eur for d in self.days)

    @property
    def fair_cost_eur(self) -> float:
        return sum(d.fair_cost_eur for d in self.days)

    @property
    def shared_kwh(self) -> float:
        return sum(d.shared_kwh for d in self.days)

    @property
    def baseline_shared_kwh(self) -> float:
        return sum(d.baseline_shared_kwh for d in self.days)

    def summary(self) -> dict[str, object]:
        statuses: dict[str, int] = {}
        for d in self.days:
            statuses[d.status] = statuses.get(d.status, 0) + 1
        fair = self.fair_cost_eur
        return {
            "days": len(self.days),
            "cost_eur": round(self.cost_eur, 2),
            "fair_baseline_cost_eur": None if np.isnan(fair) else round(fair, 2),
            "do_nothing_cost_eur": round(self.baseline_cost_eur, 2),
            "savings_vs_fair_baseline_eur": None if np.isnan(fair) else round(fair - self.cost_eur, 2),
            "savings_vs_fair_baseline_pct": None if np.isnan(fair) else _pct(fair, self.cost_eur),
            "savings_vs_do_nothing_eur": round(self.baseline_cost_eur - self.cost_eur, 2),
            "savings_vs_do_nothing_pct": _pct(self.baseline_cost_eur, self.cost_eur),
            "shared_kwh": round(self.shared_kwh, 1),
            "fair_baseline_shared_kwh": None if np.isnan(fair) else round(
                sum(d.fair_shared_kwh for d in self.days), 1),
            "do_nothing_shared_kwh": round(self.baseline_shared_kwh, 1),
            "mean_solve_s": round(float(np.mean([d.solve_time_s for d in self.days] or [0.0])), 3),
            "statuses": statuses,
        }


def _pct(baseline: float, cost: float) -> float:
    return round(100.0 * (baseline - cost) / abs(baseline), 2) if baseline else 0.0


def _actual(history: SiteHistory, start_ms: int, steps: int) -> Forecast:
    load, pv = history.window(start_ms, steps)
    if np.isnan(load).any() or np.isnan(pv).any():
        when = datetime.fromtimestamp(start_ms / 1000, UTC).isoformat()
        raise ValueError(f"the history does not cover the day from {when} completely")
    return Forecast(start_ms=start_ms, step_minutes=history.step_minutes, load_kw=load, pv_kw=pv,
                    method="actual")


def simulate(model: DistrictModel, history: SiteHistory, *, start_ms: int, days: int,
             forecast: ForecastMode = "perfect", options: PlanOptions | None = None,
             on_day: Callable[[DayResult], None] | None = None, fair: bool = True) -> Simulation:
    if days < 1:
        raise ValueError("days must be at least 1")
    steps = 1440 // model.step_minutes
    sim = Simulation(step_minutes=model.step_minutes)
    state = LiveState()
    baseline_state = LiveState()
    fair_state = LiveState()
    b, k = model.batteries, model.tanks
    tz = ZoneInfo(model.timezone)
    month: tuple[int, int] | None = None
    month_peak = np.zeros(model.n_sites)  # the billing month's peak import so far, per site
    for d in range(days):
        start = start_ms + d * DAY_MS
        local = datetime.fromtimestamp(start / 1000, tz)
        if (local.year, local.month) != month:
            month, month_peak = (local.year, local.month), np.zeros(model.n_sites)
        actual = _actual(history, start, steps)
        if forecast == "perfect":
            fc = actual
        else:
            fc = forecast_district(model, history.before(start), start_ms=start, steps=steps)
        state = replace(state, month_peak_kw=dict(zip(model.site_ids, month_peak.tolist(), strict=True)))
        plan = plan_district(model, fc, state, start_ms=start, options=options)
        done = execute_plan(model, plan, actual)
        month_peak = np.maximum(month_peak, done.grid_import_kw.max(axis=1, initial=0.0))
        base = counterfactual(model, actual, baseline_state)
        alone = fair_baseline(model, fc, actual, state=fair_state, end=end_levels(plan),
                              options=options) if fair else None
        result = DayResult(start_ms=start, status=str(plan.status), solve_time_s=plan.solve_time_s,
                           mip_gap=plan.mip_gap, cost_eur=done.cost_eur, shared_kwh=done.shared_kwh,
                           incentive_eur=done.incentive_eur, baseline_cost_eur=base.cost_eur,
                           baseline_shared_kwh=base.shared_kwh,
                           fair_cost_eur=float("nan") if alone is None else alone.outcome.cost_eur,
                           fair_shared_kwh=float("nan") if alone is None else alone.outcome.shared_kwh)
        if alone is not None:
            fair_state = LiveState(battery_soc_pct=alone.battery_soc_end_pct,
                                   tank_level_pct=alone.tank_level_end_pct)
        sim.days.append(result)
        sim.times_ms.append(actual.start_ms + np.arange(steps, dtype=np.int64) * model.step_minutes * 60_000)
        for name, values in (("load_kw", actual.load_kw), ("pv_kw", actual.pv_kw),
                             ("import_kw", done.grid_import_kw), ("export_kw", done.grid_export_kw),
                             ("battery_kw", plan.site_power_kw(AssetKind.BATTERY)),
                             ("flexible_kw", plan.site_power_kw(AssetKind.FLEXIBLE_LOAD)),
                             ("pump_kw", plan.site_power_kw(AssetKind.TANK)),
                             ("baseline_import_kw", base.grid_import_kw),
                             ("baseline_export_kw", base.grid_export_kw),
                             ("baseline_battery_kw", base.battery_kw)):
            sim.add(name, values.sum(axis=0))
        sites = model.site_ids
        state = LiveState(
            battery_soc_pct={(sites[b.site_index[i]], b.ids[i]): float(np.clip(
                plan.asset(sites[b.site_index[i]], b.ids[i]).level_pct[-1], 0, 100))  # type: ignore[index]
                for i in range(b.count)},
            tank_level_pct={(sites[k.site_index[i]], k.ids[i]): float(np.clip(
                plan.asset(sites[k.site_index[i]], k.ids[i]).level_pct[-1], 0, 100))  # type: ignore[index]
                for i in range(k.count)},
        )
        soc_end = base.battery_soc_end_pct if base.battery_soc_end_pct is not None else np.zeros(b.count)
        baseline_state = LiveState(battery_soc_pct={(sites[b.site_index[i]], b.ids[i]): float(soc_end[i])
                                                    for i in range(b.count)})
        if on_day is not None:
            on_day(result)
    return sim


_CSV_COLUMNS = ("load_kw", "pv_kw", "import_kw", "export_kw", "battery_kw", "flexible_kw", "pump_kw",
                "baseline_import_kw", "baseline_export_kw", "baseline_battery_kw")


def write_csv(sim: Simulation, path: str | Path) -> None:
    """District totals per step: coordinated schedule and the counterfactual baseline."""
    times = np.concatenate(sim.times_ms) if sim.times_ms else np.zeros(0, np.int64)
    cols = [sim.column(c) for c in _CSV_COLUMNS]
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["time_utc", *_CSV_COLUMNS])
        for i, t in enumerate(times):
            stamp = datetime.fromtimestamp(int(t) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.writerow([stamp, *(f"{c[i]:.3f}" for c in cols)])


def write_png(sim: Simulation, path: str | Path, *, title: str = "") -> None:
    """The schedule against the baseline: district grid exchange, battery and flexible loads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.concatenate(sim.times_ms).astype("datetime64[ms]") if sim.times_ms else np.zeros(0)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
    top.plot(times, sim.column("baseline_import_kw") - sim.column("baseline_export_kw"), color="0.6",
             label="baseline net import (uncoordinated)")
    top.plot(times, sim.column("import_kw") - sim.column("export_kw"), color="tab:blue",
             label="coordinated net import")
    top.axhline(0, color="black", linewidth=0.5)
    top.set_ylabel("kW")
    top.legend(loc="upper right")
    top.set_title(title or "District grid exchange: coordinated schedule against the baseline")
    bottom.plot(times, sim.column("battery_kw"), color="tab:green", label="batteries (+ discharge)")
    bottom.plot(times, sim.column("baseline_battery_kw"), color="tab:green", alpha=0.4, linestyle="--",
                label="batteries, baseline")
    bottom.plot(times, sim.column("flexible_kw"), color="tab:orange", label="flexible loads")
    bottom.plot(times, sim.column("pump_kw"), color="tab:purple", label="pumps")
    bottom.plot(times, sim.column("pv_kw"), color="gold", alpha=0.6, label="PV")
    bottom.set_ylabel("kW")
    bottom.legend(loc="upper right", fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
