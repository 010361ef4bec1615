"""The coordinator's daily baselines (BASELINE events), settled by the same rules as measured data.

Each event holds one day's hourly grid flows per site for the coordinated plan, the fair
baseline and doing nothing, all on the forecast the day's first plan used
(coordinator/baselines.py). Settled per month, they give each firm's net cost under each
and so its savings against both baselines, named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from nzd.accounting.settlement import HourlyEnergy, Settlement, SettlementRules, settle
from nzd.config import DistrictConfig
from nzd.store.base import EventKind, TelemetryStore

__all__ = ["SCENARIOS", "BaselineSettlements", "baseline_settlements"]

SCENARIOS = ("coordinated", "fair", "do_nothing")


@dataclass(frozen=True, slots=True)
class BaselineSettlements:
    days: int
    """Days of the month with a stored baseline."""
    by_scenario: dict[str, Settlement]
    """One period (the month) per scenario."""


def _profile(value: float | list[float]) -> np.ndarray:
    return np.full(24, float(value)) if isinstance(value, int | float) else np.asarray(value, dtype=float)


def _energy(district: DistrictConfig, docs: list[dict[str, Any]], scenario: str) -> HourlyEnergy:
    site_ids = tuple(s.id for s in district.sites)
    hours: list[int] = []
    imp_rows: list[np.ndarray] = []
    exp_rows: list[np.ndarray] = []
    for doc in docs:
        index = {s: i for i, s in enumerate(doc["site_ids"])}
        n = len(doc["hour_start_ms"])
        imp = np.zeros((len(site_ids), n))
        exp = np.zeros((len(site_ids), n))
        for i, site in enumerate(site_ids):
            if site in index:
                imp[i] = doc[scenario]["import_kwh"][index[site]]
                exp[i] = doc[scenario]["export_kwh"][index[site]]
        hours += [int(h) for h in doc["hour_start_ms"]]
        imp_rows.append(imp)
        exp_rows.append(exp)
    hour_ms = np.asarray(hours, np.int64)
    imp_kwh, exp_kwh = np.hstack(imp_rows), np.hstack(exp_rows)
    tz = ZoneInfo(district.timezone)
    local = np.asarray([datetime.fromtimestamp(int(t) / 1000, tz).hour for t in hour_ms], np.int64)
    tariffs = [district.tariff_for(s) for s in site_ids]
    p_imp = np.stack([_profile(t.import_eur_per_kwh) for t in tariffs])[:, local]
    p_exp = np.stack([_profile(t.export_eur_per_kwh) for t in tariffs])[:, local]
    ef = np.stack([_profile(t.emission_g_per_kwh) for t in tariffs])[:, local]
    return HourlyEnergy(site_ids=site_ids, hour_start_ms=hour_ms, import_kwh=imp_kwh, export_kwh=exp_kwh,
                        pv_kwh=np.zeros_like(imp_kwh), energy_cost_eur=imp_kwh * p_imp - exp_kwh * p_exp,
                        co2_kg=imp_kwh * ef / 1000.0)


async def baseline_settlements(store: TelemetryStore, district: DistrictConfig, rules: SettlementRules, *,
                               start_ms: int, end_ms: int, zonal_price: dict[int, float]
                               ) -> BaselineSettlements | None:
    """The month's stored baselines settled per scenario; None when there is none.
    ``zonal_price``: hour start -> stored Pz (hours without one take the registry's constant)."""
    events = await store.events(EventKind.BASELINE, district=district.district, start_ms=start_ms,
                                end_ms=end_ms, limit=1000)
    newest: dict[int, dict[str, Any]] = {}
    for e in sorted(events, key=lambda e: e.ts_ms):  # a day planned again at midnight: the newest
        doc = e.document
        if all(k in doc for k in ("day_start_ms", "site_ids", "hour_start_ms", *SCENARIOS)):
            newest[int(doc["day_start_ms"])] = doc
    if not newest:
        return None
    docs = [newest[d] for d in sorted(newest)]
    out: dict[str, Settlement] = {}
    for scenario in SCENARIOS:
        energy = _energy(district, docs, scenario)
        pz = np.asarray([zonal_price.get(int(t), np.nan) for t in energy.hour_start_ms])
        out[scenario] = settle(energy, rules, zonal_price_eur_per_mwh=pz, period="month")
    return BaselineSettlements(days=len(docs), by_scenario=out)
