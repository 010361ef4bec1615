"""The district's figures per year for the targets (docs/reports.md), as the caller may see them.

They come from the district KPI and water routes with ``period=year`` (counter rollups over long
spans), so the public and the authority get exactly the figures those routes show them: each
through the public rule, null where it would reveal a firm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from api.auth.principal import Principal
from api.problems import ProblemError
from api.state import ApiState
from nzd.accounting.water import Period
from nzd.clock import district_clock
from nzd.targets import Metric

__all__ = ["YearlyActuals", "yearly_actuals"]


@dataclass(slots=True)
class YearlyActuals:
    values: dict[Metric, dict[int, float | None]] = field(default_factory=dict)
    partial: dict[int, bool] = field(default_factory=dict)
    """Year -> the year is cut (not over yet, or without data for part of it)."""


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or den is None or den <= 0 else num / den


async def yearly_actuals(state: ApiState, principal: Principal, *, first_year: int,
                         last_year: int) -> YearlyActuals:
    # Imported here: the routes import this module.
    from api.routes.kpis import PeriodKind, district_kpi_rows
    from api.routes.water import district_water

    tz = ZoneInfo(state.district.timezone)
    start = datetime(first_year, 1, 1, tzinfo=tz)
    end = min(datetime(last_year + 1, 1, 1, tzinfo=tz), datetime.fromtimestamp(district_clock().now_s(), tz))
    out = YearlyActuals(values={m: {} for m in Metric})
    if end <= start:
        return out
    try:
        rows = await district_kpi_rows(state, principal, from_=start, to=end, period=PeriodKind.YEAR)
    except ProblemError as e:
        if e.status != 403:  # fewer firms report than the public rule needs: no figures
            raise
        rows = []
    for r in rows:
        y = datetime.fromisoformat(r.period_start).year
        out.partial[y] = r.partial
        out.values[Metric.CO2_ELECTRICITY][y] = None if r.co2_kg is None else r.co2_kg / 1000.0
        out.values[Metric.RENEWABLE_SHARE][y] = _ratio(r.pv_kwh, r.consumption_kwh)
        out.values[Metric.SELF_SUFFICIENCY][y] = r.self_sufficiency
    try:
        water = await district_water(state, principal, from_=start, to=end, period=Period.YEAR)
    except ProblemError as e:
        if e.status not in (403, 404):  # 404: no water meters in the registry
            raise
        return out
    for w in water.rows:
        y = datetime.fromtimestamp(w.period_start_ms / 1000, tz).year
        out.values[Metric.WATER_INTAKE][y] = w.intake_m3
        out.values[Metric.WATER_REUSE_RATIO][y] = w.reuse_ratio
        out.values[Metric.WATER_INTENSITY][y] = w.intensity_m3_per_unit
    return out
