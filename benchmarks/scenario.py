"""Scenario sizing benchmark: representative days against the full-year LP, one JSON line per district.

For the example scenario (8 firms, a year at 15 minutes) and a synthetic 50-firm district:
the sizing LP's solve time on tsam representative days, the solve time of the same LP over
the whole year (sizes free), and the relative differences of the total annual cost (the
representative-day sizes dispatched over the full year against the full-year optimum) and of
the sizes (total kWp, total battery kWh). Goals: 8 firms <= 30 s, 50 firms <= 5 min (the
representative-day path: year, tsam, sizing, full-year check), cost within 1 %.

Usage: python benchmarks/scenario.py [--firms 8,50] [--days 12] [--full-step 15] [--full-step-50 60]
  --full-step-50: resolution of the 50-firm full-year LP in minutes (15 is hours of solving here).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from coordinator.scenarios import (
    SizingOptions,
    fixed_sizes,
    load_scenario,
    representative_days,
    scenario_year,
    size_district,
)
from coordinator.scenarios._dispatch import dispatch_year

EXAMPLE = Path(__file__).resolve().parents[1] / "firmware_configs" / "examples" / "scenario.yaml"
GOALS_S = {8: 30.0, 50: 300.0}


def synthetic_scenario(folder: Path, n_firms: int, *, step_minutes: int, seed: int = 7) -> Path:
    """A registry of ``n_firms`` (two primary substations) and a scenario with a roof per firm, a field
    for every tenth firm and a shared battery per substation."""
    rng = np.random.default_rng(seed)
    base = yaml.safe_load((EXAMPLE.parent / "scenario-district.yaml").read_text())
    sites, surfaces = [], []
    for i in range(n_firms):
        sid = f"firm-{i:02d}"
        annual = float(rng.uniform(100e3, 1.5e6))
        sites.append(
            {
                "id": sid,
                "name": f"Firm {i}",
                "load_profile": str(rng.choice(["g1", "g3", "g4", "g0"])),
                "annual_load_kwh": annual,
                "grid_import_limit_kw": annual / 8760 * 4,
                "primary_substation": "north" if i % 3 == 0 else "south",
            }
        )
        surfaces.append(
            {
                "id": f"{sid}-roof",
                "site": sid,
                "area_m2": float(rng.uniform(500, 4000)),
                "azimuth_deg": float(rng.choice([135, 180, 225])),
            }
        )
        if i % 10 == 0:
            surfaces.append(
                {"id": f"{sid}-field", "site": sid, "kind": "ground", "area_m2": 8000.0, "tilt_deg": 25}
            )
    base.update({"district": f"synthetic-{n_firms}", "sites": sites})
    (folder / "district.yaml").write_text(yaml.safe_dump(base))
    batteries = [
        {
            "id": f"battery-{sub}",
            "site": next(s["id"] for s in sites if s["primary_substation"] == sub),
            "eur_per_kwh": 300,
            "eur_per_kw": 100,
            "max_kwh": 5000,
            "max_kw": 2000,
        }
        for sub in ("north", "south")
    ]
    scenario = {
        "name": f"synthetic-{n_firms}",
        "district": "district.yaml",
        "step_minutes": step_minutes,
        "surfaces": surfaces,
        "batteries": batteries,
        "co2_sweep_pct": [0],
    }
    (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    return folder / "scenario.yaml"


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if abs(b) > 1e-9 else abs(a - b)


def measure(scenario: Path, *, days: int, full_step: int, label: str) -> dict[str, object]:
    spec = load_scenario(scenario)
    t0 = time.perf_counter()
    year = scenario_year(spec)
    t_year = time.perf_counter() - t0
    t0 = time.perf_counter()
    rd = representative_days(year.inputs, steps_per_day=year.steps_per_day, n_days=days)
    t_tsam = time.perf_counter() - t0
    rep = size_district(rd.inputs)
    t0 = time.perf_counter()
    check = dispatch_year(
        fixed_sizes(year.inputs, kwp=rep.kwp, kwh=rep.battery_kwh, kw=rep.battery_kw),
        steps_per_day=year.steps_per_day,
    )
    t_check = time.perf_counter() - t0
    n = len(year.inputs.site_ids)
    path_s = t_year + t_tsam + rep.solve_s + t_check
    # A first line as soon as the representative-day path is done (the full-year LP can take long).
    print(
        json.dumps(
            {
                "benchmark": "scenario_sizing",
                "stage": "representative_days",
                "district": label,
                "firms": n,
                "representative_path_s": round(path_s, 2),
                "representative_solve_s": round(rep.solve_s, 2),
                "full_year_check_s": round(t_check, 2),
                "pv_kwp": round(float(rep.kwp.sum()), 1),
                "battery_kwh": round(float(rep.battery_kwh.sum()), 1),
                "annual_cost_representative_estimate_eur": round(rep.annual_cost_eur),
                "annual_cost_representative_sizes_eur": round(check.annual_cost_eur),
            }
        ),
        flush=True,
    )
    # The reference: the same LP over the whole year, sizes free (at --full-step minutes).
    ref_year = (
        year
        if full_step == spec.step_minutes
        else scenario_year(spec.model_copy(update={"step_minutes": full_step}))
    )
    # Storage cyclic within each day, as on the representative days and in the check: the check's
    # sizes are a feasible point of this LP, so the difference is what representative days cost.
    days = np.arange(ref_year.inputs.n_steps, dtype=np.int64) // ref_year.steps_per_day
    full = size_district(
        replace(ref_year.inputs, period_of_step=days), SizingOptions(solver="ipm", time_limit_s=3600.0)
    )
    # The representative-day sizes at the reference's resolution, for a like-for-like cost.
    check_ref = (
        check
        if ref_year is year
        else dispatch_year(
            fixed_sizes(ref_year.inputs, kwp=rep.kwp, kwh=rep.battery_kwh, kw=rep.battery_kw),
            steps_per_day=ref_year.steps_per_day,
        )
    )
    kwp_rep, kwp_full = float(rep.kwp.sum()), float(full.kwp.sum())
    kwh_rep, kwh_full = float(rep.battery_kwh.sum()), float(full.battery_kwh.sum())
    return {
        "benchmark": "scenario_sizing",
        "district": label,
        "firms": n,
        "step_minutes": spec.step_minutes,
        "representative_days": int(rd.days.size),
        "surfaces": year.inputs.surfaces.count,
        "batteries": year.inputs.batteries.count,
        "year_inputs_s": round(t_year, 2),
        "tsam_s": round(t_tsam, 2),
        "representative_solve_s": round(rep.solve_s, 2),
        "representative_lp_columns": rep.columns,
        "full_year_check_s": round(t_check, 2),
        "representative_path_s": round(path_s, 2),
        "full_year_step_minutes": full_step,
        "full_year_solve_s": round(full.solve_s, 2),
        "full_year_lp_columns": full.columns,
        "annual_cost_representative_estimate_eur": round(rep.annual_cost_eur),
        "annual_cost_representative_sizes_eur": round(check_ref.annual_cost_eur),
        "annual_cost_full_year_optimum_eur": round(full.annual_cost_eur),
        "cost_rel_diff": round(_rel(check_ref.annual_cost_eur, full.annual_cost_eur), 5),
        "estimate_rel_diff": round(_rel(rep.annual_cost_eur, full.annual_cost_eur), 5),
        "pv_kwp": [round(kwp_rep, 1), round(kwp_full, 1)],
        "pv_kwp_rel_diff": round(_rel(kwp_rep, kwp_full), 4),
        "battery_kwh": [round(kwh_rep, 1), round(kwh_full, 1)],
        "battery_kwh_rel_diff": round(_rel(kwh_rep, kwh_full), 4),
        "size_l1_rel_diff": round(float(np.abs(rep.kwp - full.kwp).sum() / max(kwp_full, 1e-9)), 4),
        "goal_s": GOALS_S.get(n),
        "goal_met": path_s <= GOALS_S.get(n, float("inf"))
        and _rel(check_ref.annual_cost_eur, full.annual_cost_eur) <= 0.01,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", default="8,50")
    ap.add_argument("--days", type=int, default=12)
    ap.add_argument("--full-step", type=int, default=15)
    ap.add_argument("--full-step-50", type=int, default=60)
    args = ap.parse_args()
    for n in (int(x) for x in args.firms.split(",")):
        if n == 8:
            out = measure(EXAMPLE, days=args.days, full_step=args.full_step, label="example")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = synthetic_scenario(Path(tmp), n, step_minutes=15)
                out = measure(
                    path,
                    days=args.days,
                    full_step=args.full_step_50 if n >= 50 else args.full_step,
                    label=f"synthetic-{n}",
                )
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
