"""The district's monthly or yearly report for the municipality (docs/reports.md): the figures,
gathered from the routes the caller could ask themselves, so the public rule has judged each.

A yearly report runs month by month, a monthly one day by day. Leaks are counted, never named.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from api.auth.principal import Principal
from api.problems import ProblemError
from api.routes.inventory import Inventory, year_inventory
from api.routes.targets import TargetProgress
from api.state import ApiState
from nzd.clock import district_clock
from nzd.store.base import EventKind

__all__ = ["DistrictReport", "ReportRow", "district_report", "parse_report_period"]

_PERIOD = re.compile(r"^(20[0-9]{2}|2100)(?:-(0[1-9]|1[0-2]))?$")


class ReportRow(BaseModel):
    label: str = Field(examples=["2026-03"])
    co2_t: float | None = None
    renewable_share: float | None = None
    self_sufficiency: float | None = None
    shared_mwh: float | None = None
    incentive_eur: float | None = None
    water_intake_m3: float | None = None
    water_reuse_ratio: float | None = None
    partial: bool = False


class DistrictReport(BaseModel):
    district: str
    name: str
    period: str = Field(description="YYYY (a year, rows per month) or YYYY-MM (a month, rows per day)")
    firms: int = Field(description="firms taking part (the registry's sites)")
    rows: list[ReportRow]
    totals: ReportRow
    leaks_found: int
    leaks_fixed: int
    targets: list[TargetProgress]
    inventory: Inventory | None = Field(None, description="the year's emission inventory (yearly reports)")


def parse_report_period(period: str) -> tuple[int, int | None]:
    m = _PERIOD.fullmatch(period)
    if m is None:
        raise ProblemError(422, f"query.period: {period!r} is not a year (2026) or a month (2026-03)")
    return int(m.group(1)), None if m.group(2) is None else int(m.group(2))


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or den is None or den <= 0 else num / den


def _row(label: str, r: Any | None, w: Any | None) -> ReportRow:
    """One report row from a district KPI row and a water row of the same period (either absent)."""
    out = ReportRow(label=label, water_intake_m3=None if w is None else w.intake_m3,
                    water_reuse_ratio=None if w is None else w.reuse_ratio)
    if r is not None:
        out.co2_t = None if r.co2_kg is None else r.co2_kg / 1000.0
        out.renewable_share = _ratio(r.pv_kwh, r.consumption_kwh)
        out.self_sufficiency = r.self_sufficiency
        out.shared_mwh = None if r.shared_kwh is None else r.shared_kwh / 1000.0
        out.incentive_eur = r.incentive_eur
        out.partial = r.partial
    return out


async def _leaks(state: ApiState, start_ms: int, end_ms: int) -> tuple[int, int]:
    events = await state.store.events(EventKind.ALERT, district=state.district.district, start_ms=start_ms,
                                      end_ms=end_ms, limit=5000)
    first: dict[str, int] = {}
    newest: dict[str, tuple[int, bool]] = {}
    for e in events:
        if "leak" not in str(e.document.get("kind", "")):
            continue
        first[e.key] = min(first.get(e.key, e.ts_ms), e.ts_ms)
        if e.key not in newest or e.ts_ms > newest[e.key][0]:
            newest[e.key] = (e.ts_ms, bool(e.document.get("active", True)))
    return len(first), sum(1 for _, active in newest.values() if not active)


async def district_report(state: ApiState, principal: Principal, period: str) -> DistrictReport:
    from api.routes.kpis import PeriodKind, district_kpi_rows
    from api.routes.targets import get_progress
    from api.routes.water import district_water
    from nzd.accounting.water import Period

    year, month = parse_report_period(period)
    tz = ZoneInfo(state.district.timezone)
    now = datetime.fromtimestamp(district_clock().now_s(), tz)
    start = datetime(year, month or 1, 1, tzinfo=tz)
    if month is None:
        end = datetime(year + 1, 1, 1, tzinfo=tz)
    else:
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    if start >= now:
        raise ProblemError(422, f"query.period: {period} has not begun")
    cut = end > now
    end = min(end, now)
    async def energy_rows(kind: PeriodKind) -> list[Any]:
        try:
            return await district_kpi_rows(state, principal, from_=start, to=end, period=kind)
        except ProblemError as e:
            if e.status != 403:  # fewer than three firms report: nothing is published
                raise
            return []

    async def water_rows(kind: Period) -> list[Any]:
        try:
            return (await district_water(state, principal, from_=start, to=end, period=kind)).rows
        except ProblemError as e:
            if e.status not in (403, 404):  # 404: no water meters in the registry
                raise
            return []

    # Rows per month (a year) or per day (a month); the totals are the whole period's own figures,
    # judged by the public rule as one figure (a sum of rows would lose the rows without data).
    whole, whole_water = (PeriodKind.YEAR, Period.YEAR) if month is None else (PeriodKind.MONTH, Period.MONTH)
    step, water_step = (PeriodKind.MONTH, Period.MONTH) if month is None else (PeriodKind.DAY, Period.DAY)
    energy, water = await energy_rows(step), await water_rows(water_step)
    total_e, total_w = await energy_rows(whole), await water_rows(whole_water)
    water_by_start = {w.period_start_ms: w for w in water}
    rows = [_row(r.period_start[:7] if month is None else r.period_start[:10], r,
                 water_by_start.get(r.period_start_ms)) for r in energy]
    totals = _row(period, total_e[0] if total_e else None, total_w[0] if total_w else None)
    totals.partial = cut or totals.partial
    found, fixed = await _leaks(state, int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    d = state.district
    return DistrictReport(district=d.district, name=d.name or d.district, period=period,
                          firms=len(d.sites), rows=rows, totals=totals,
                          leaks_found=found, leaks_fixed=fixed,
                          targets=await get_progress(state, principal, year=year),
                          inventory=await year_inventory(state, principal, year) if month is None else None)
