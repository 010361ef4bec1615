"""Water KPIs per site and for the district (issue 9): intake by source, reuse, discharge,
intensity and intake against the drought allowance, computed by nzd.accounting.water."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from api.counters import counter_readings
from api.deps import OperatorDep, PrincipalDep, SiteDep, StateDep, guard_public_total
from api.periods import LONG_SPAN_MS, FromQuery, ToQuery, resolve_period
from api.problems import ProblemError, problems
from api.public import viewer_figure
from api.routes.production import output_per_interval
from api.state import ApiState
from nzd.accounting import intake_against_allowance
from nzd.accounting.water import (
    MeterReadings,
    Period,
    WaterKpis,
    district_water_kpis,
    period_change,
    period_edges,
    site_water_kpis,
)
from nzd.accounting.water_calendar import WATER_SEVERITY_KEY, severity_changes, severity_per_day
from nzd.clock import district_clock
from nzd.config import SiteConfig, WaterSeverity, WaterSource
from nzd.store.base import Event, EventKind

router = APIRouter(prefix="/api/v1", tags=["water"])

_MAX_ROWS = 800


class WaterRow(BaseModel):
    period_start_ms: int = Field(examples=[1_764_025_200_000])
    intake_m3: float | None = Field(None, examples=[212.0])
    intake_by_source_m3: dict[str, float | None] = Field(
        description="public, well, recycled", examples=[{"public": 80.0, "recycled": 132.0}])
    reuse_ratio: float | None = Field(None, description="recycled over total intake, 0..1", examples=[0.62])
    discharge_m3: float | None = Field(None, examples=[180.0])
    process_m3: float | None = Field(None, examples=[0.0])
    allowance_m3: float | None = Field(None, description="the allowance at the level in force that day, "
                                       "one per calendar day (an hour gets its share of its day)",
                                       examples=[300.0])
    allowance_severity: str | None = Field(None, description="the water-severity level this period is judged "
                                           "at: the one in force that day", examples=["normal"])
    allowance_counted_m3: float | None = Field(None, description="the intake the allowance counts (fresh "
                                               "water: public and well, unless configured)", examples=[80.0])
    allowance_used: float | None = Field(None, description="counted intake over allowance (null for a zero "
                                         "allowance)", examples=[0.71])
    over: bool = Field(False, description="counted intake above the allowance (any intake, for a zero one)",
                       examples=[False])
    output_units: float | None = Field(None, description="production output, in the report's "
                                       "production_unit; null where not known", examples=[1250.0])
    intensity_m3_per_unit: float | None = Field(None, description="intake per unit of output",
                                                examples=[0.17])
    intake_change: float | None = Field(None, description="relative change of the intake against the "
                                        "period before", examples=[-0.04])


class WaterReport(BaseModel):
    scope: str = Field(description="a site id, or 'district'", examples=["tintoria-rossi"])
    period: str = Field(examples=["day"])
    severity: str = Field(description="the district's water-severity level", examples=["normal"])
    production_unit: str | None = Field(None, description="unit of output for intensity", examples=["kg"])
    rows: list[WaterRow]
    totals: dict[str, float | None] = Field(examples=[{"intake_m3": 1480.0, "reuse_ratio": 0.6}])


PeriodQuery = Annotated[Period, Query(description="Rows per local hour, day or month")]


def rounded(v: Any) -> float | None:
    f = float(v)
    return round(f, 4) if math.isfinite(f) else None


def report_window(
    state: ApiState, from_: datetime | None, to: datetime | None, period: Period
) -> tuple[int, int]:
    if from_ is None and to is None:  # the last seven local days, today included
        tz = ZoneInfo(state.district.timezone)
        midnight = datetime.fromtimestamp(district_clock().now_s(), tz).replace(
            hour=0, minute=0, second=0, microsecond=0)
        start_ms = int((midnight - timedelta(days=6)).timestamp() * 1000)
        return start_ms, district_clock().now_ms()
    long_view = period in (Period.MONTH, Period.YEAR)
    start_ms, end_ms = resolve_period(from_, to, max_span_ms=LONG_SPAN_MS if long_view else None)
    per = {Period.HOUR: 3_600_000, Period.DAY: 86_400_000, Period.MONTH: 28 * 86_400_000,
           Period.YEAR: 365 * 86_400_000}[period]
    if (end_ms - start_ms) // per > _MAX_ROWS:
        raise ProblemError(422, f"query.period: more than {_MAX_ROWS} rows; choose a longer period")
    return start_ms, end_ms


async def site_kpis(state: ApiState, site: SiteConfig, edges: np.ndarray,
                     period: Period) -> WaterKpis | None:
    if site.water is None or not site.water.meters:
        return None
    found = await counter_readings(state.store, district=state.district.district, site=site.id,
                                   quantity="water_volume_m3", devices={m.device for m in site.water.meters},
                                   start_ms=int(edges[0]), end_ms=int(edges[-1]))
    readings = {device: MeterReadings(times_ms=t, volume_m3=v) for device, (t, v) in found.items()}
    output = await output_per_interval(store=state.store, district=state.district, site=site, edges=edges,
                                       daily_edges=period is not Period.HOUR)
    return site_water_kpis(water=site.water, readings=readings, edges_ms=edges, output_units=output)


async def severity_by_day(state: ApiState, edges: np.ndarray) -> list[WaterSeverity]:
    """The level in force on each local day of the report (docs/water.md, drought mode)."""
    day_edges = period_edges(start_ms=int(edges[0]), end_ms=int(edges[-1]), period=Period.DAY,
                             timezone=state.district.timezone)
    events = await state.store.events(EventKind.STATUS, district=state.district.district, site="*",
                                      end_ms=int(day_edges[-1]), limit=5000)
    return severity_per_day(day_edges, changes=severity_changes(events),
                            default=state.district.water_severity, now_ms=district_clock().now_ms())


def _report(scope: str, period: Period, severity: str, k: WaterKpis, site: SiteConfig | None, *,
            levels: list[WaterSeverity] | None = None, timezone: str = "UTC") -> WaterReport:
    allowance = (intake_against_allowance(k, water=site.water, severity=levels or severity, timezone=timezone)
                 if site is not None and site.water is not None else None)
    intake, reuse, intensity = k.intake_m3, k.reuse_ratio, k.intensity_m3_per_unit
    change = period_change(intake)
    rows = []
    for i, t in enumerate(k.edges_ms[:-1]):
        by_source = {s.value: rounded(k.intake_by_source_m3[s][i])
                     for s in WaterSource if s in k.intake_by_source_m3}
        a = allowance
        rows.append(WaterRow(
            period_start_ms=int(t), intake_m3=rounded(intake[i]), intake_by_source_m3=by_source,
            reuse_ratio=rounded(reuse[i]), discharge_m3=rounded(k.discharge_m3[i]),
            process_m3=rounded(k.process_m3[i]),
            allowance_m3=rounded(a.allowance_m3[i]) if a and a.allowance_m3 is not None else None,
            allowance_used=rounded(a.used_fraction[i]) if a and a.used_fraction is not None else None,
            allowance_severity=a.severities[i].value if a and a.allowance_m3 is not None else None,
            allowance_counted_m3=rounded(a.counted_m3[i]) if a else None,
            over=bool(a.over[i]) if a else False,
            output_units=rounded(k.output_units[i]) if k.output_units is not None else None,
            intensity_m3_per_unit=rounded(intensity[i]) if intensity is not None else None,
            intake_change=rounded(change[i])))
    totals = {key: rounded(v) for key, v in k.totals().items()}
    return WaterReport(scope=scope, period=period.value, severity=severity, production_unit=k.production_unit,
                       rows=rows, totals=totals)


@router.get("/sites/{site}/water", summary="Water of one site per period (default: the last 7 days)",
            responses=problems(403, 404, 422, 503))
async def site_water(site: SiteDep, state: StateDep, from_: FromQuery = None, to: ToQuery = None,
                     period: PeriodQuery = Period.DAY) -> WaterReport:
    start_ms, end_ms = report_window(state, from_, to, period)
    edges = period_edges(start_ms=start_ms, end_ms=end_ms, period=period, timezone=state.district.timezone)
    k = await site_kpis(state, site, edges, period)
    if k is None:
        raise ProblemError(404, f"site '{site.id}' has no water meters in the registry")
    severity = (await current_water_severity(state)).water_severity
    return _report(site.id, period, severity, k, site, levels=await severity_by_day(state, edges),
                   timezone=state.district.timezone)


@router.get("/district/water", summary="District water per period: intake by source, reuse (public)",
            responses=problems(403, 404, 422, 503))
async def district_water(state: StateDep, principal: PrincipalDep, from_: FromQuery = None,
                         to: ToQuery = None, period: PeriodQuery = Period.DAY) -> WaterReport:
    start_ms, end_ms = report_window(state, from_, to, period)
    edges = period_edges(start_ms=start_ms, end_ms=end_ms, period=period, timezone=state.district.timezone)
    found = [(s.id, k) for s in state.district.sites
             if (k := await site_kpis(state, s, edges, period)) is not None]
    if not found:
        raise ProblemError(404, "no site of the district has water meters in the registry")
    parts = [k for _, k in found]
    reporting = sum(bool(np.any(k.intake_m3 > 0) or np.any(k.discharge_m3 > 0)) for k in parts)
    guard_public_total(principal, reporting, "water in this period")
    severity = (await current_water_severity(state)).water_severity
    report = _report("district", period, severity, district_water_kpis(parts), None)
    hidden = principal.hidden_indexes([site_id for site_id, _ in found])
    return report if hidden is None else _public_report(report, parts, hidden)


def _public_report(report: WaterReport, parts: list[WaterKpis], hidden: tuple[int, ...]) -> WaterReport:
    """The district report as a viewer other than the operator sees it: each figure of each row,
    and each total, through the public rule on the contributions of the sites at the ``hidden``
    indexes of ``parts`` to what it is built from (api/public.py, ``viewer_figure``)."""
    def rule(value: float | None, *inputs: Sequence[float | None]) -> float | None:
        return viewer_figure(value, *inputs, hidden=hidden)

    def col(values: list[Any]) -> list[float | None]:
        return [None if v is None else float(v) for v in values]

    def source(p: WaterKpis, src: WaterSource, i: int) -> float:
        volume = p.intake_by_source_m3.get(src)
        return 0.0 if volume is None else float(volume[i])

    rows = []
    for i, row in enumerate(report.rows):
        intake = col([p.intake_m3[i] for p in parts])
        recycled = [source(p, WaterSource.RECYCLED, i) for p in parts]
        output = col([p.output_units[i] if p.output_units is not None else None for p in parts])
        before = col([p.intake_m3[i - 1] for p in parts]) if i > 0 else intake
        rows.append(row.model_copy(update={
            "intake_m3": rule(row.intake_m3, intake),
            "intake_by_source_m3": {k: rule(v, [source(p, WaterSource(k), i) for p in parts])
                                    for k, v in row.intake_by_source_m3.items()},
            "reuse_ratio": rule(row.reuse_ratio, intake, recycled),
            "discharge_m3": rule(row.discharge_m3, col([p.discharge_m3[i] for p in parts])),
            "process_m3": rule(row.process_m3, col([p.process_m3[i] for p in parts])),
            "output_units": rule(row.output_units, output),
            "intensity_m3_per_unit": rule(row.intensity_m3_per_unit, intake, output),
            "intake_change": rule(row.intake_change, intake, before)}))
    site_totals = [p.totals() for p in parts]
    intake_total = [t.get("intake_m3") for t in site_totals]
    derived = {"reuse_ratio": ("intake_recycled_m3",), "intensity_m3_per_unit": ("output_units",),
               "intake_trend_m3_per_period": ()}
    totals: dict[str, float | None] = {}
    for key, value in report.totals.items():
        if key in derived:  # a ratio or trend of the intake: the intake and its other inputs must show
            inputs = [intake_total, *([t.get(k) for t in site_totals] for k in derived[key])]
            totals[key] = rule(value, *inputs)
        else:
            totals[key] = rule(value, [t.get(key) for t in site_totals])
    return report.model_copy(update={"rows": rows, "totals": totals})


# -- the district's water-severity level (drought mode) ------------------------------------------

class WaterSeverityLevel(BaseModel):
    water_severity: WaterSeverity = Field(examples=["high"])


class WaterSeverityState(BaseModel):
    water_severity: str = Field(description="normal, low, medium or high", examples=["high"])
    source: str = Field(description="'operator' (set through the API) or 'registry'", examples=["operator"])
    set_by: str | None = Field(None, examples=["operator"])
    set_at_ms: int | None = Field(None, examples=[1_764_025_200_000])


async def current_water_severity(state: ApiState) -> WaterSeverityState:
    events = await state.store.events(EventKind.STATUS, district=state.district.district, site="*",
                                      limit=100)
    for e in events:  # newest first
        level = e.document.get("water_severity")
        if e.key == WATER_SEVERITY_KEY and level in {s.value for s in WaterSeverity}:
            return WaterSeverityState(water_severity=str(level), source="operator",
                                      set_by=e.document.get("user"), set_at_ms=e.ts_ms)
    return WaterSeverityState(water_severity=state.district.water_severity.value, source="registry")


@router.get("/district/water-severity", summary="The district's water-severity level (drought mode)",
            responses=problems(503))
async def get_water_severity(state: StateDep, principal: PrincipalDep) -> WaterSeverityState:
    level = await current_water_severity(state)
    # Who set it is an account name: for the people who log in, not for the public.
    return level.model_copy(update={"set_by": None}) if principal.district_only else level


@router.put("/district/water-severity",
            summary="Set the district's water-severity level (operator); the coordinator plans with it",
            responses=problems(403, 422, 503))
async def put_water_severity(
    state: StateDep, operator: OperatorDep,
    body: Annotated[WaterSeverityLevel, Body(openapi_examples={"high": {
        "summary": "The basin authority declared high severity", "value": {"water_severity": "high"}}})],
) -> WaterSeverityState:
    now_ms = district_clock().now_ms()
    level = body.water_severity.value
    await state.store.write_events([Event(EventKind.STATUS, state.district.district, "*", now_ms,
                                          WATER_SEVERITY_KEY, {"water_severity": level,
                                                               "user": operator.name})])
    return WaterSeverityState(water_severity=level, source="operator", set_by=operator.name, set_at_ms=now_ms)
