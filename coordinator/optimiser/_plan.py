"""A district plan: per-site grid flows and per-asset schedules over the horizon."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from coordinator.model import FloatArray, IntArray
from coordinator.optimiser._types import PlanStatus

__all__ = ["AssetKind", "AssetSchedule", "LimitBreach", "Plan", "SetpointValue", "limit_breaches"]

_BREACH_KW = 1e-3


class AssetKind(StrEnum):
    BATTERY = "battery"
    FLEXIBLE_LOAD = "flexible_load"
    TANK = "tank"


#: The contract quantity each asset kind is driven by, and the factor from the schedule.
_SETPOINT = {
    AssetKind.BATTERY: "battery_power_setpoint_w",
    AssetKind.FLEXIBLE_LOAD: "load_power_setpoint_w",
    AssetKind.TANK: "pump_flow_setpoint_m3h",
}


@dataclass(frozen=True, slots=True)
class SetpointValue:
    """What one asset should do in one planning interval (the dispatcher wraps it in a Setpoint)."""

    site: str
    asset: str
    """The gateway asset that receives the setpoint."""
    asset_id: str
    """The asset's id in the registry."""
    kind: AssetKind
    quantity: str
    value: float


@dataclass(frozen=True, slots=True)
class AssetSchedule:
    site: str
    asset_id: str
    asset: str
    kind: AssetKind
    power_kw: FloatArray
    """[step] battery: positive = discharging; flexible load and pump: consumed power."""
    level_pct: FloatArray | None = None
    """[step + 1] battery SOC or tank level at each step's start and the horizon's end."""
    flow_m3h: FloatArray | None = None
    """[step] tanks: pump flow."""
    fresh_water_m3h: FloatArray | None = None
    """[step] tanks: demand met from fresh water instead of the tank (drought mode's fallback)."""
    shares: tuple[tuple[str, float], ...] = ()
    """Batteries: (site, share) of each owner; a battery owned by its site has one entry."""

    def setpoint(self, step: int = 0) -> SetpointValue:
        if self.kind is AssetKind.TANK:
            assert self.flow_m3h is not None
            value = float(self.flow_m3h[step])
        else:
            value = float(self.power_kw[step]) * 1000.0
        return SetpointValue(site=self.site, asset=self.asset, asset_id=self.asset_id, kind=self.kind,
                             quantity=_SETPOINT[self.kind], value=round(value, 6))


@dataclass(frozen=True, slots=True)
class LimitBreach:
    """Steps where a plan imports above a site's connection limit (a soft limit in the model)."""

    site: str
    limit_kw: float
    steps: tuple[int, ...]
    kw_over: tuple[float, ...]
    """Import above the limit at each of ``steps``."""

    def to_document(self) -> dict[str, Any]:
        return {"site": self.site, "limit_kw": self.limit_kw, "steps": list(self.steps),
                "kw_over": [round(v, 3) for v in self.kw_over],
                "max_kw_over": round(max(self.kw_over), 3)}


def limit_breaches(import_kw: FloatArray, limit_kw: FloatArray, *,
                   site_ids: tuple[str, ...]) -> tuple[LimitBreach, ...]:
    over = import_kw - limit_kw[:, None]
    out = []
    for s in range(import_kw.shape[0]):
        steps = np.flatnonzero(over[s] > _BREACH_KW)
        if steps.size:
            out.append(LimitBreach(site=site_ids[s], limit_kw=float(limit_kw[s]),
                                   steps=tuple(int(t) for t in steps),
                                   kw_over=tuple(float(v) for v in over[s, steps])))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Plan:
    district: str
    start_ms: int
    step_minutes: int
    site_ids: tuple[str, ...]
    status: PlanStatus
    objective_eur: float
    """Import cost - export revenue - incentive + battery wear (+ peak and CO2 terms) over the
    horizon: what the plan costs, penalties apart."""
    mip_gap: float | None
    """(objective_eur + penalty_eur - bound_eur) / |objective_eur + penalty_eur|."""
    solve_time_s: float
    grid_import_kw: FloatArray
    """[site, step]"""
    grid_export_kw: FloatArray
    load_kw: FloatArray
    """[site, step] the inflexible load forecast planned against."""
    pv_kw: FloatArray
    curtailment_kw: FloatArray
    hour_start_ms: IntArray
    shared_energy_kwh: FloatArray
    """[hour] min(total fed in, total drawn) over the members in each clock hour."""
    incentive_eur: float
    assets: tuple[AssetSchedule, ...]
    message: str = ""
    plan_id: str = field(default="")
    bound_eur: float | None = None
    """A lower bound on objective_eur + penalty_eur over every feasible plan."""
    penalty_eur: float = 0.0
    """Penalties of the plan (import above a connection limit), not a cost anyone pays."""
    limit_breaches: tuple[LimitBreach, ...] = ()

    @property
    def steps(self) -> int:
        return int(self.grid_import_kw.shape[1])

    @property
    def times_ms(self) -> IntArray:
        return self.start_ms + np.arange(self.steps, dtype=np.int64) * self.step_minutes * 60_000

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.steps * self.step_minutes * 60_000

    def asset(self, site: str, asset_id: str) -> AssetSchedule:
        for a in self.assets:
            if a.site == site and a.asset_id == asset_id:
                return a
        raise KeyError(f"no asset {asset_id!r} at site {site!r} in the plan")

    def first_setpoints(self) -> list[SetpointValue]:
        """The first interval's setpoint of every controllable asset."""
        return [a.setpoint(0) for a in self.assets]

    def setpoints_at(self, step: int) -> list[SetpointValue]:
        if not 0 <= step < self.steps:
            raise IndexError(f"step {step} outside the plan's {self.steps} steps")
        return [a.setpoint(step) for a in self.assets]

    def site_power_kw(self, kind: AssetKind) -> FloatArray:
        """[site, step] the summed schedule of one asset kind per site."""
        out = np.zeros_like(self.grid_import_kw)
        for a in self.assets:
            if a.kind is kind:
                out[self.site_ids.index(a.site)] += a.power_kw
        return out

    def to_document(self) -> dict[str, Any]:
        """A JSON-able summary for the store and the API."""
        return {
            "plan_id": self.plan_id,
            "district": self.district,
            "start_ms": self.start_ms,
            "step_minutes": self.step_minutes,
            "status": str(self.status),
            "objective_eur": round(self.objective_eur, 4),
            "bound_eur": None if self.bound_eur is None else round(self.bound_eur, 4),
            "penalty_eur": round(self.penalty_eur, 4),
            "mip_gap": self.mip_gap,
            "limit_breaches": [b.to_document() for b in self.limit_breaches],
            "solve_time_s": round(self.solve_time_s, 4),
            "incentive_eur": round(self.incentive_eur, 4),
            "shared_energy_kwh": _r(self.shared_energy_kwh),
            "message": self.message,
            "sites": {
                s: {"grid_import_kw": _r(self.grid_import_kw[i]),
                    "grid_export_kw": _r(self.grid_export_kw[i]),
                    # the forecasts planned against, to be compared with what is measured
                    "load_kw": _r(self.load_kw[i]), "pv_kw": _r(self.pv_kw[i])}
                for i, s in enumerate(self.site_ids)
            },
            "assets": [
                {"site": a.site, "asset_id": a.asset_id, "asset": a.asset, "kind": str(a.kind),
                 "power_kw": _r(a.power_kw),
                 **({"level_pct": _r(a.level_pct)} if a.level_pct is not None else {}),
                 **({"flow_m3h": _r(a.flow_m3h)} if a.flow_m3h is not None else {}),
                 **({"fresh_water_m3h": _r(a.fresh_water_m3h)} if a.fresh_water_m3h is not None else {}),
                 **({"shares": dict(a.shares)} if a.shares else {})}
                for a in self.assets
            ],
        }


def _r(values: FloatArray) -> list[float]:
    return [round(float(v), 3) for v in values]
