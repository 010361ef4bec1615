"""Energy and KPIs per hour, day or month, for a site and for the district (measured data).

Every row says which local period it is (``period_start`` beside ``period_start_ms``), whether
the request or the present cut it (``partial``), and how much of it readings cover per quantity
(``coverage``); energy of a period without any covered interval is null, not 0. Site rows also
count the counter readings that were rejected (docs/coordinator.md, "Bad readings").
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth.principal import Principal
from api.csv_export import CSV_RESPONSE, CsvDep, rows_csv
from api.deps import PrincipalDep, SiteDep, StateDep, guard_public_total
from api.energy import MeasuredKpis, cached_kpis
from api.kpi_answer import json_rows, kept_answer
from api.periods import LONG_SPAN_MS, resolve_period
from api.problems import ProblemError, problems
from api.public import viewer_figure
from api.state import ApiState
from nzd.accounting import SiteEnergyKpis
from nzd.clock import district_clock

router = APIRouter(prefix="/api/v1", tags=["kpis"])

_MAX_ROWS = 2000
_REJECTED = ("flagged", "noise", "excess")


class PeriodKind(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


_LONG = (PeriodKind.MONTH, PeriodKind.YEAR)


PeriodQuery = Annotated[PeriodKind, Query(description="Rows per local hour, day, month or year (month "
                                                      "and year: up to 20 years per request)")]
FromQuery = Annotated[datetime | None, Query(
    alias="from", description="Start: ISO 8601 with an offset, or a local date or date-time in the "
                              "district's time zone; default: today's local midnight",
    examples=["2026-11-24", "2026-11-24T00:00:00+01:00"])]
ToQuery = Annotated[datetime | None, Query(
    alias="to", description="End, exclusive, as `from`; default: now", examples=["2026-11-25"])]


class Coverage(BaseModel):
    expected_intervals: int = Field(examples=[96])
    present_intervals: int = Field(description="intervals bounded by good readings at most 1.5 intervals "
                                               "apart", examples=[92])


class _Row(BaseModel):
    period_start_ms: int = Field(examples=[1_764_025_200_000])
    period_start: str = Field(description="local date-time of the period's start, ISO 8601 with offset",
                              examples=["2026-11-25T00:00:00+01:00"])
    partial: bool = Field(description="the request or the present cuts this period", examples=[False])
    coverage: dict[str, Coverage] = Field(
        default_factory=dict,
        description="per metered quantity (import_kwh, export_kwh, pv_kwh, battery_kwh)")
    consumption_kwh: float | None = Field(None, examples=[812.4])
    pv_kwh: float | None = Field(None, examples=[402.0])
    import_kwh: float | None = Field(None, examples=[498.1])
    export_kwh: float | None = Field(None, examples=[87.7])
    shared_kwh: float | None = Field(None, description="shared energy (site: the part it received, by "
                                                       "import, of each hour's shared energy)",
                                     examples=[290.0])
    self_sufficiency: float | None = Field(None, description="0..1: 1 - import / consumption (own PV and "
                                                             "storage only); null without consumption",
                                           examples=[0.39])
    self_sufficiency_with_sharing: float | None = Field(
        None, description="0..1: 1 - (import - shared) / consumption", examples=[0.48])
    cost_eur: float | None = Field(None, examples=[121.5])
    co2_kg: float | None = Field(None, examples=[129.5])
    peak_kw: float | None = Field(None, examples=[96.0])


class SiteKpiRow(_Row):
    self_consumption_kwh: float | None = Field(None, examples=[314.3])
    self_consumption_ratio: float | None = Field(None, description="0..1; null without PV", examples=[0.78])
    missing_intervals: int = Field(0, description="intervals without grid meter data", examples=[0])
    rejected_readings: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="device -> flagged / noise / excess -> readings not used",
        examples=[{"m1": {"flagged": 1}}])
    counter_resets: dict[str, int] = Field(default_factory=dict, description="device -> resets taken")
    counter_rollovers: dict[str, int] = Field(default_factory=dict, description="device -> rollovers")


class DistrictKpiRow(_Row):
    incentive_eur: float | None = Field(None, examples=[35.1])


def _clean(v: Any) -> float | None:
    f = float(v)
    return round(f, 4) if math.isfinite(f) else None


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A date or date-time without offset is the district's local time."""
    return None if value is None or value.tzinfo is not None else value.replace(tzinfo=tz)


def _default_period(state: StateDep, from_: datetime | None, to: datetime | None, *,
                    long_view: bool = False) -> tuple[int, int]:
    tz = ZoneInfo(state.district.timezone)
    if from_ is None and to is None:  # today, local time
        now = datetime.fromtimestamp(district_clock().now_s(), tz)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start_ms = int(midnight.timestamp() * 1000)
        return start_ms, max(district_clock().now_ms(), start_ms + 1)
    return resolve_period(_local(from_, tz) or from_, _local(to, tz) or to,
                          max_span_ms=LONG_SPAN_MS if long_view else None)


def _check_rows(start_ms: int, end_ms: int, period: PeriodKind) -> None:
    per = {PeriodKind.HOUR: 3_600_000, PeriodKind.DAY: 86_400_000, PeriodKind.MONTH: 28 * 86_400_000,
           PeriodKind.YEAR: 365 * 86_400_000}[period]
    if (end_ms - start_ms) // per > _MAX_ROWS:
        raise ProblemError(422, f"query.period: more than {_MAX_ROWS} rows; choose a longer period")


class _Periods:
    """Row bookkeeping shared by the site and district routes."""

    def __init__(self, m: MeasuredKpis, *, tz: str, req_start_ms: int, req_end_ms: int) -> None:
        k = m.kpis
        self.m = m
        self.tz = ZoneInfo(tz)
        self.starts = [int(t) for t in k.period_start_ms]
        step_ms = (m.end_ms - m.start_ms) // next(iter(m.covered.values())).shape[1]
        self.grid = m.start_ms + np.arange(next(iter(m.covered.values())).shape[1], dtype=np.int64) * step_ms
        period_edges = np.asarray([*self.starts, m.end_ms], dtype=np.int64)
        self.ends = [int(x) for x in period_edges[1:]]
        # The last period of the series ends where the series ends; its full length is unknown
        # here, so "partial" compares with the local calendar instead.
        self.index = np.searchsorted(period_edges, self.grid, side="right") - 1
        self.first = np.searchsorted(self.index, np.arange(len(self.starts) + 1), side="left")
        """Period i's intervals are ``first[i]:first[i + 1]``."""
        self.req_start_ms, self.req_end_ms = req_start_ms, req_end_ms
        self.now_ms = district_clock().now_ms()
        self.period = k.period

    def iso(self, i: int) -> str:
        return datetime.fromtimestamp(self.starts[i] / 1000, self.tz).isoformat()

    def partial(self, i: int) -> bool:
        start, end = self.starts[i], self.ends[i]
        full_end = _calendar_end(start, self.period.value, self.tz)
        return start < self.req_start_ms or full_end > min(self.req_end_ms, self.now_ms) or end < full_end

    def _span(self, i: int) -> slice:
        """The intervals of period ``i`` (periods are consecutive runs of the grid)."""
        return slice(int(self.first[i]), int(self.first[i + 1]))

    def coverage(self, sites: slice | int, i: int) -> dict[str, Coverage]:
        out: dict[str, Coverage] = {}
        span = self._span(i)
        for q, cov in self.m.covered.items():
            metered = self.m.metered[q][sites]
            if not np.any(metered):
                continue
            rows = cov[sites, span]
            rows = rows[np.atleast_1d(metered)] if rows.ndim == 2 else rows
            expected = (span.stop - span.start) * (rows.shape[0] if rows.ndim == 2 else 1)
            present = int(np.count_nonzero(rows))
            out[q] = Coverage(expected_intervals=expected, present_intervals=present)
        return out

    def has_data(self, sites: slice | int, i: int) -> bool:
        return bool(np.any(self.m.bounded[sites, self._span(i)]))

    def events(self, site: int, i: int) -> dict[str, dict[str, int]]:
        lo, hi = self.starts[i], self.ends[i]
        out: dict[str, dict[str, int]] = {}
        for device, kinds in self.m.events[site].items():
            for kind, times in kinds.items():
                n = sum(1 for t in times if lo <= t < hi)
                if n:
                    out.setdefault(device, {})[kind] = n
        return out


def _calendar_end(start_ms: int, period: str, tz: ZoneInfo) -> int:
    start = datetime.fromtimestamp(start_ms / 1000, tz)
    if period == "hour":
        return start_ms + 3_600_000
    if period == "day":
        # Wall-clock arithmetic: the next local midnight, 23 or 25 hours away on DST days.
        nxt = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    elif period == "year":
        nxt = start.replace(year=start.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        y, mo = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        nxt = start.replace(year=y, month=mo, day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(nxt.timestamp() * 1000)


def _nullable(value: float | None, present: bool) -> float | None:
    return value if present else None


@router.get("/sites/{site}/kpis", summary="Energy and KPIs of one site per period (default: today)",
            responses={**problems(403, 404, 422, 503), **CSV_RESPONSE}, response_model=list[SiteKpiRow])
async def site_kpis(site: SiteDep, state: StateDep, as_csv: CsvDep, from_: FromQuery = None,
                    to: ToQuery = None, period: PeriodQuery = PeriodKind.HOUR) -> Response:
    start_ms, end_ms = _default_period(state, from_, to, long_view=period in _LONG)
    _check_rows(start_ms, end_ms, period)
    m = await cached_kpis(state.hub.kpis, state.store, state.district, [site], start_ms=start_ms,
                          end_ms=end_ms, period=period.value,
                          raw_span_ms=int(state.settings.raw_span_h * 3_600_000), archive=state.hub.archive)

    def render() -> Response:
        p = _Periods(m, tz=state.district.timezone, req_start_ms=start_ms, req_end_ms=end_ms)
        rows = _site_rows(m, p)
        if as_csv:
            return rows_csv(rows, columns=list(SiteKpiRow.model_fields), tz=state.district.timezone,
                            filename=f"{site.id}-kpis-{period.value}")
        return json_rows(rows, SiteKpiRow)

    # Whoever may see the site sees the same rows: one answer per format.
    return kept_answer(m, f"site.{'csv' if as_csv else 'json'}", keep=_fixed(end_ms), render=render)


def _fixed(end_ms: int) -> bool:
    """A window that ended before now: every row, ``partial`` too, follows from the figures alone."""
    return end_ms <= district_clock().now_ms()


def _site_rows(m: MeasuredKpis, p: _Periods) -> list[SiteKpiRow]:
    s = m.kpis.sites
    rows = []
    for i, t in enumerate(p.starts):
        cov = p.coverage(0, i)
        grid = cov.get("import_kwh")
        has = p.has_data(0, i)
        ev = p.events(0, i)
        rows.append(SiteKpiRow(
            period_start_ms=t, period_start=p.iso(i), partial=p.partial(i), coverage=cov,
            consumption_kwh=_nullable(_clean(s.consumption_kwh[0, i]), has),
            pv_kwh=_nullable(_clean(s.pv_kwh[0, i]), has),
            import_kwh=_nullable(_clean(s.import_kwh[0, i]), has),
            export_kwh=_nullable(_clean(s.export_kwh[0, i]), has),
            shared_kwh=_nullable(_clean(s.shared_kwh[0, i]), has),
            self_consumption_kwh=_nullable(_clean(s.self_consumption_kwh[0, i]), has),
            self_consumption_ratio=_nullable(_clean(s.self_consumption_ratio[0, i]), has),
            self_sufficiency=_nullable(_clean(s.self_sufficiency[0, i]), has),
            self_sufficiency_with_sharing=_nullable(_clean(s.self_sufficiency_with_sharing[0, i]), has),
            cost_eur=_nullable(_clean(s.cost_eur[0, i]), has), co2_kg=_nullable(_clean(s.co2_kg[0, i]), has),
            peak_kw=_nullable(_clean(s.peak_kw[0, i]), has),
            missing_intervals=0 if grid is None else grid.expected_intervals - grid.present_intervals,
            rejected_readings={d: {k: n for k, n in kinds.items() if k in _REJECTED}
                               for d, kinds in ev.items() if any(k in _REJECTED for k in kinds)},
            counter_resets={d: kinds["reset"] for d, kinds in ev.items() if "reset" in kinds},
            counter_rollovers={d: kinds["rollover"] for d, kinds in ev.items() if "rollover" in kinds},
        ))
    return rows


@router.get("/district/kpis", summary="District energy, shared energy and KPIs per period (public)",
            responses={**problems(403, 422, 503), **CSV_RESPONSE}, response_model=list[DistrictKpiRow])
async def district_kpis(state: StateDep, principal: PrincipalDep, as_csv: CsvDep, from_: FromQuery = None,
                        to: ToQuery = None, period: PeriodQuery = PeriodKind.HOUR) -> Response:
    m, start_ms, end_ms = await _district_measured(state, principal, from_, to, period)

    def render() -> Response:
        p = _Periods(m, tz=state.district.timezone, req_start_ms=start_ms, req_end_ms=end_ms)
        rows = _district_rows(m, p, principal)
        if as_csv:
            return rows_csv(rows, columns=list(DistrictKpiRow.model_fields), tz=state.district.timezone,
                            filename=f"district-kpis-{period.value}")
        return json_rows(rows, DistrictKpiRow)

    # What the viewer sees depends on the firms hidden from them (the public rule): none for the
    # operator, all for the public and the authority, the others for a site manager. One answer
    # per set of hidden firms and per format.
    hidden = principal.hidden_indexes(list(m.kpis.site_ids))
    view = "all" if hidden is None else "hiding-" + ",".join(map(str, hidden))
    return kept_answer(m, f"district.{view}.{'csv' if as_csv else 'json'}", keep=_fixed(end_ms),
                       render=render)


async def district_kpi_rows(state: ApiState, principal: Principal, *, from_: datetime | None,
                            to: datetime | None, period: PeriodKind) -> list[DistrictKpiRow]:
    """The rows of ``GET /district/kpis`` as ``principal`` sees them (reports, open data)."""
    m, start_ms, end_ms = await _district_measured(state, principal, from_, to, period)
    p = _Periods(m, tz=state.district.timezone, req_start_ms=start_ms, req_end_ms=end_ms)
    return _district_rows(m, p, principal)


async def _district_measured(state: ApiState, principal: Principal, from_: datetime | None,
                             to: datetime | None, period: PeriodKind) -> tuple[MeasuredKpis, int, int]:
    """The district's figures and the window, after the public rule's count of reporting firms."""
    start_ms, end_ms = _default_period(state, from_, to, long_view=period in _LONG)
    _check_rows(start_ms, end_ms, period)
    m = await cached_kpis(state.hub.kpis, state.store, state.district, list(state.district.sites),
                          start_ms=start_ms, end_ms=end_ms, period=period.value,
                          raw_span_ms=int(state.settings.raw_span_h * 3_600_000), archive=state.hub.archive)
    s = m.kpis.sites
    reporting = np.any(np.nan_to_num(s.import_kwh + s.export_kwh + s.pv_kwh) > 0, axis=1)
    guard_public_total(principal, int(np.count_nonzero(reporting)), "energy in this period")
    return m, start_ms, end_ms


def _district_rows(m: MeasuredKpis, p: _Periods, principal: Principal) -> list[DistrictKpiRow]:
    s = m.kpis.sites
    d = m.kpis.district
    rows = []
    for i, t in enumerate(p.starts):
        cov = p.coverage(slice(None), i)
        has = p.has_data(slice(None), i)
        rows.append(DistrictKpiRow(
            period_start_ms=t, period_start=p.iso(i), partial=p.partial(i), coverage=cov,
            consumption_kwh=_nullable(_clean(d.consumption_kwh[i]), has),
            pv_kwh=_nullable(_clean(d.pv_kwh[i]), has), import_kwh=_nullable(_clean(d.import_kwh[i]), has),
            export_kwh=_nullable(_clean(d.export_kwh[i]), has),
            shared_kwh=_nullable(_clean(d.shared_kwh[i]), has),
            incentive_eur=_nullable(_clean(d.incentive_eur[i]), has),
            cost_eur=_nullable(_clean(d.cost_eur[i]), has), co2_kg=_nullable(_clean(d.co2_kg[i]), has),
            peak_kw=_nullable(_clean(d.peak_kw[i]), has),
            self_sufficiency=_nullable(_clean(d.self_sufficiency[i]), has),
            self_sufficiency_with_sharing=_nullable(_clean(d.self_sufficiency_with_sharing[i]), has),
        ))
    hidden = principal.hidden_indexes(list(m.kpis.site_ids))
    if hidden is not None:  # the public, the authority, a site manager (the others' firms)
        rows = [_public_row(r, s, i, hidden=hidden) for i, r in enumerate(rows)]
    return rows


def _public_row(row: DistrictKpiRow, s: SiteEnergyKpis, i: int, *, hidden: Collection[int]) -> DistrictKpiRow:
    """The row as its viewer may see it: each figure through the public rule on the firms hidden
    from the viewer (all for the public, the others for a site manager), with the sites'
    contributions in this row to every quantity it is built from."""
    imp, exp, pv = s.import_kwh[:, i], s.export_kwh[:, i], s.pv_kwh[:, i]
    cons = s.consumption_kwh[:, i]
    battery = cons - imp + exp - pv  # consumption = import - export + PV + battery
    balance = (cons, imp, exp, pv, battery)
    inputs: dict[str, tuple[np.ndarray, ...]] = {
        "consumption_kwh": balance, "pv_kwh": (pv,), "import_kwh": (imp,), "export_kwh": (exp,),
        "shared_kwh": (imp, exp), "incentive_eur": (imp, exp), "cost_eur": (s.cost_eur[:, i], imp, exp),
        "co2_kg": (s.co2_kg[:, i], imp), "peak_kw": (imp,), "self_sufficiency": balance,
        "self_sufficiency_with_sharing": balance,  # shared energy is built from import and export
    }
    shown = {name: viewer_figure(getattr(row, name), *(list(map(float, c)) for c in parts), hidden=hidden)
             for name, parts in inputs.items()}
    return row.model_copy(update=shown)
