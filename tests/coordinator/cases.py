"""Small districts with hand-computable optimal plans (UTC, hourly steps unless said)."""

from __future__ import annotations

from typing import Any

import numpy as np

from coordinator.forecast import Forecast
from coordinator.model import DistrictModel
from nzd.config import DistrictConfig

DAY_MS = 1_782_864_000_000  # 2026-07-01 00:00 UTC
assert DAY_MS % 86_400_000 == 0


def district(sites: list[dict[str, Any]], *, step_minutes: int = 60, **tariff: Any) -> DistrictModel:
    config = DistrictConfig.model_validate({
        "district": "test", "timezone": "UTC", "step_minutes": step_minutes, "horizon_hours": 24,
        "tariff": {"import_eur_per_kwh": 0.25, "export_eur_per_kwh": 0.10, "incentive_eur_per_mwh": 110,
                   "valorisation_eur_per_mwh": 11, **tariff},
        "sites": [{"name": s["id"], **s} for s in sites],
    })
    assert not list(config.cross_check())
    return DistrictModel.from_config(config)


def forecast(model: DistrictModel, *, load: dict[int, dict[int, float]] | None = None,
             pv: dict[int, dict[int, float]] | None = None, base_load_kw: float = 0.0,
             start_ms: int = DAY_MS) -> Forecast:
    """``load[site][step] = kW``; steps not given are ``base_load_kw`` (load) or 0 (PV)."""
    steps = model.horizon_steps
    load_kw = np.full((model.n_sites, steps), base_load_kw)
    pv_kw = np.zeros((model.n_sites, steps))
    for target, values in ((load_kw, load or {}), (pv_kw, pv or {})):
        for s, per_step in values.items():
            for t, v in per_step.items():
                target[s, t] = v
    return Forecast(start_ms=start_ms, step_minutes=model.step_minutes, load_kw=load_kw, pv_kw=pv_kw)
