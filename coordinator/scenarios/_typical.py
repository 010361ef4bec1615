"""Representative days (tsam): a year of inputs reduced to a few real days, each weighted by the days it
stands for, with the district's peak-load day and its lowest-PV day kept as days of their own."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from coordinator.model import IntArray
from coordinator.scenarios._inputs import SizingInputs

__all__ = ["RepresentativeDays", "representative_days"]


@dataclass(frozen=True, slots=True)
class RepresentativeDays:
    inputs: SizingInputs
    days: IntArray
    """The day of the year (0-based) each representative is."""
    weights: IntArray
    """How many days of the year each stands for (they add up to the year's days)."""


def _features(inp: SizingInputs, steps_per_day: int) -> tuple[np.ndarray, list[str]]:
    """Columns that drive the sizing: each site's net load and the district's totals, each scaled to
    its peak so that large firms do not drown small ones."""
    cols = [inp.load_kw - inp.existing_pv_kw, inp.load_kw.sum(axis=0, keepdims=True)]
    if inp.surfaces.count:
        cols.append(inp.surfaces.yield_kw_per_kwp.mean(axis=0, keepdims=True))
    data = np.vstack(cols)
    scale = np.abs(data).max(axis=1, keepdims=True)
    data = data / np.where(scale > 0, scale, 1.0)
    names = [f"c{i}" for i in range(data.shape[0])]
    names[inp.n_sites] = "district_load"
    if inp.surfaces.count:
        names[inp.n_sites + 1] = "pv"
    return data, names


def representative_days(
    inp: SizingInputs, *, steps_per_day: int, n_days: int, start_iso: str = "2025-01-01"
) -> RepresentativeDays:
    """Cluster the year's days with tsam (hierarchical, medoids) and take the real day nearest to each
    cluster's representative."""
    import pandas as pd
    import tsam

    data, names = _features(inp, steps_per_day)
    n_year = data.shape[1] // steps_per_day
    minutes = 24 * 60 // steps_per_day
    index = pd.date_range(start_iso, periods=data.shape[1], freq=f"{minutes}min")
    frame = pd.DataFrame(data.T, index=index, columns=names)
    extremes = tsam.ExtremeConfig(
        method="new_cluster", max_period=["district_load"], min_period=["pv"] if "pv" in names else []
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = tsam.aggregate(
            frame,
            max(n_days - 2, 1),
            period_duration=24,
            cluster=tsam.ClusterConfig(representation="medoid"),
            extremes=extremes,
            preserve_column_means=False,
        )
    assignment = np.asarray(result.cluster_assignments, np.int64)[:n_year]
    by_day = data[:, : n_year * steps_per_day].reshape(data.shape[0], n_year, steps_per_day)
    peak_day = int(by_day[names.index("district_load")].sum(axis=1).argmax())
    days, weights = [], []
    for k in np.unique(assignment):
        members = np.flatnonzero(assignment == k)
        if peak_day in members:
            chosen = peak_day
        else:
            centre = by_day[:, members].mean(axis=1)
            dist = ((by_day[:, members] - centre[:, None, :]) ** 2).sum(axis=(0, 2))
            chosen = int(members[dist.argmin()])
        days.append(chosen)
        weights.append(members.size)
    order = np.argsort(days)
    day_arr = np.asarray(days, np.int64)[order]
    weight_arr = np.asarray(weights, np.int64)[order]
    return RepresentativeDays(
        inputs=select_days(inp, day_arr, weight_arr, steps_per_day=steps_per_day),
        days=day_arr,
        weights=weight_arr,
    )


def select_days(inp: SizingInputs, days: IntArray, weights: IntArray, *, steps_per_day: int) -> SizingInputs:
    """The inputs of ``days`` only, each step weighted by its day's weight; a day is its own period."""
    steps = (days[:, None] * steps_per_day + np.arange(steps_per_day)[None, :]).ravel()
    hours_per_day = 24
    per_hour = steps_per_day // hours_per_day
    hours = (days[:, None] * hours_per_day + np.arange(hours_per_day)[None, :]).ravel()
    local_hour = np.arange(steps.size, dtype=np.int64) // per_hour
    sf = replace(inp.surfaces, yield_kw_per_kwp=inp.surfaces.yield_kw_per_kwp[:, steps])
    return replace(
        inp,
        load_kw=inp.load_kw[:, steps],
        existing_pv_kw=inp.existing_pv_kw[:, steps],
        import_eur_per_kwh=inp.import_eur_per_kwh[:, steps],
        export_eur_per_kwh=inp.export_eur_per_kwh[:, steps],
        emission_g_per_kwh=inp.emission_g_per_kwh[:, steps],
        hour_of_step=local_hour,
        shared_eur_per_kwh=inp.shared_eur_per_kwh[:, hours],
        weight_of_step=np.repeat(weights.astype(np.float64), steps_per_day),
        period_of_step=np.repeat(np.arange(days.size, dtype=np.int64), steps_per_day),
        surfaces=sf,
    )
