"""Energy and KPIs per hour, day or month, for a site and for the district (measured data)."""

from __future__ import annotations

import math
import time
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth.principal import Role
from api.deps import PrincipalDep, SiteDep, StateDep, guard_public_total
from api.energy import measured_kpis
from api.periods import FromQuery, ToQuery, resolve_period
from api.problems import ProblemError, problems
from api.public import public_figure
from nzd.accounting import SiteEnergyKpis

router = APIRouter(prefix="/api/v1", tags=["kpis"])

_MAX_ROWS = 2000


class PeriodKind(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


PeriodQuery = Annotated[PeriodKind, Query(description="Rows per local hour, day or month")]


class SiteKpiRow(BaseModel):
    period_start_ms: int = Field(examples=[1_764_025_200_000])
    consumption_kwh: float | None = Field(None, examples=[812.4])
    pv_kwh: float | None = Field(None, examples=[402.0])
    import_kwh: float | None = Field(None, examples=[498.1])
    export_kwh: float | None = Field(None, examples=[87.7])
    self_consumption_kwh: float | None = Field(None, examples=[314.3])
    self_consumption_ratio: float | None = Field(None, description="0..1; null without PV", examples=[0.78])
    self_sufficiency: float | None = Field(None, description="0..1; null without consumption",
                                           examples=[0.39])
    cost_eur: float | None = Field(None, examples=[121.5])
    co2_kg: float | None = Field(None, examples=[129.5])
    peak_kw: float | None = Field(None, examples=[96.0])
    missing_intervals: int = Field(0, description="intervals without meter data", examples=[0])


class DistrictKpiRow(BaseModel):
    period_start_ms: int = Field(examples=[1_764_025_200_000])
    consumption_kwh: float | None = Field(None, examples=[3_140.0])
    pv_kwh: float | None = Field(None, examples=[1_580.0])
    import_kwh: float | None = Field(None, examples=[1_920.0])
    export_kwh: float | None = Field(None, examples=[360.0])
    shared_kwh: float | None = Field(None, description="per clock hour min(fed in, drawn), summed",
                                     examples=[290.0])
    incentive_eur: float | None = Field(None, examples=[35.1])
    cost_eur: float | None = Field(None, examples=[402.8])
    co2_kg: float | None = Field(None, examples=[499.2])
    peak_kw: float | None = Field(None, examples=[310.0])
    self_sufficiency: float | None = Field(None, description="0..1, shared energy counted",
                                           examples=[0.48])


def _clean(v: Any) -> float | None:
    f = float(v)
    return round(f, 4) if math.isfinite(f) else None


def _default_period(state: StateDep, from_: datetime | None, to: datetime | None) -> tuple[int, int]:
    if from_ is None and to is None:  # today, local time
        tz = ZoneInfo(state.district.timezone)
        now = datetime.now(tz)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start_ms = int(midnight.timestamp() * 1000)
        return start_ms, max(int(time.time() * 1000), start_ms + 1)
    return resolve_period(from_, to)


def _check_rows(start_ms: int, end_ms: int, period: PeriodKind) -> None:
    per = {PeriodKind.HOUR: 3_600_000, PeriodKind.DAY: 86_400_000, PeriodKind.MONTH: 28 * 86_400_000}[period]
    if (end_ms - start_ms) // per > _MAX_ROWS:
        raise ProblemError(422, f"query.period: more than {_MAX_ROWS} rows; choose a longer period")


@router.get("/sites/{site}/kpis", summary="Energy and KPIs of one site per period (default: today)",
            responses=problems(403, 404, 422, 503))
async def site_kpis(site: SiteDep, state: StateDep, from_: FromQuery = None, to: ToQuery = None,
                    period: PeriodQuery = PeriodKind.HOUR) -> list[SiteKpiRow]:
    start_ms, end_ms = _default_period(state, from_, to)
    _check_rows(start_ms, end_ms, period)
    k = await measured_kpis(state.store, state.district, [site], start_ms=start_ms, end_ms=end_ms,
                            period=period.value)
    s = k.sites
    return [SiteKpiRow(
        period_start_ms=int(t), consumption_kwh=_clean(s.consumption_kwh[0, i]),
        pv_kwh=_clean(s.pv_kwh[0, i]),
        import_kwh=_clean(s.import_kwh[0, i]), export_kwh=_clean(s.export_kwh[0, i]),
        self_consumption_kwh=_clean(s.self_consumption_kwh[0, i]),
        self_consumption_ratio=_clean(s.self_consumption_ratio[0, i]),
        self_sufficiency=_clean(s.self_sufficiency[0, i]), cost_eur=_clean(s.cost_eur[0, i]),
        co2_kg=_clean(s.co2_kg[0, i]), peak_kw=_clean(s.peak_kw[0, i]),
        missing_intervals=int(s.missing_intervals[0, i]),
    ) for i, t in enumerate(k.period_start_ms)]


@router.get("/district/kpis", summary="District energy, shared energy and KPIs per period (public)",
            responses=problems(403, 422, 503))
async def district_kpis(state: StateDep, principal: PrincipalDep, from_: FromQuery = None,
                        to: ToQuery = None, period: PeriodQuery = PeriodKind.HOUR) -> list[DistrictKpiRow]:
    start_ms, end_ms = _default_period(state, from_, to)
    _check_rows(start_ms, end_ms, period)
    k = await measured_kpis(state.store, state.district, list(state.district.sites), start_ms=start_ms,
                            end_ms=end_ms, period=period.value)
    s = k.sites
    reporting = np.any(s.import_kwh + s.export_kwh + s.pv_kwh > 0, axis=1)
    guard_public_total(principal, int(np.count_nonzero(reporting)), "energy in this period")
    d = k.district
    rows = [DistrictKpiRow(
        period_start_ms=int(t), consumption_kwh=_clean(d.consumption_kwh[i]), pv_kwh=_clean(d.pv_kwh[i]),
        import_kwh=_clean(d.import_kwh[i]), export_kwh=_clean(d.export_kwh[i]),
        shared_kwh=_clean(d.shared_kwh[i]), incentive_eur=_clean(d.incentive_eur[i]),
        cost_eur=_clean(d.cost_eur[i]), co2_kg=_clean(d.co2_kg[i]), peak_kw=_clean(d.peak_kw[i]),
        self_sufficiency=_clean(d.self_sufficiency[i]),
    ) for i, t in enumerate(k.period_start_ms)]
    return [_public_row(r, s, i) for i, r in enumerate(rows)] if principal.role is Role.PUBLIC else rows


def _public_row(row: DistrictKpiRow, s: SiteEnergyKpis, i: int) -> DistrictKpiRow:
    """The row as the public sees it: each figure through the public rule, with the sites'
    contributions in this row to every quantity it is built from."""
    imp, exp, pv = s.import_kwh[:, i], s.export_kwh[:, i], s.pv_kwh[:, i]
    cons = s.consumption_kwh[:, i]
    battery = cons - imp + exp - pv  # consumption = import - export + PV + battery
    balance = (cons, imp, exp, pv, battery)
    inputs: dict[str, tuple[np.ndarray, ...]] = {
        "consumption_kwh": balance, "pv_kwh": (pv,), "import_kwh": (imp,), "export_kwh": (exp,),
        "shared_kwh": (imp, exp), "incentive_eur": (imp, exp), "cost_eur": (s.cost_eur[:, i], imp, exp),
        "co2_kg": (s.co2_kg[:, i], imp), "peak_kw": (imp,), "self_sufficiency": balance,
    }
    shown = {name: public_figure(getattr(row, name), *(list(map(float, c)) for c in parts))
             for name, parts in inputs.items()}
    return row.model_copy(update=shown)
