"""Production output of a site, the denominator of water intensity (issue 9).

Output comes from a counter (the site's ``water.production_device`` publishing
``production_output_units``) or, for firms without one, is pushed per local day through
``PUT /sites/{site}/production`` (by hand or from the firm's ERP). Pushed days are
PRODUCTION events keyed by the day; a day pushed again replaces the earlier figure.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from api.counters import counter_readings
from api.deps import SiteDep, SiteManagerDep, StateDep
from api.periods import FromQuery, ToQuery, resolve_period
from api.problems import ProblemError, problems
from nzd.accounting.counters import counter_per_interval
from nzd.clock import district_clock
from nzd.config import DistrictConfig, SiteConfig
from nzd.store.base import Event, EventKind, TelemetryStore

router = APIRouter(prefix="/api/v1", tags=["water"])

QUANTITY = "production_output_units"


class ProductionDay(BaseModel):
    day: date = Field(description="Local calendar day of the district", examples=["2026-11-24"])
    output_units: float = Field(ge=0, allow_inf_nan=False, description="Output of that day, in the site's "
                                "production_unit", examples=[1250.0])


class ProductionPush(BaseModel):
    days: list[ProductionDay] = Field(min_length=1, max_length=366)


class ProductionRecord(ProductionDay):
    unit: str | None = Field(None, examples=["kg"])
    set_by: str | None = Field(None, examples=["rossi"])
    set_at_ms: int | None = Field(None, examples=[1_764_025_200_000])


def _midnight_ms(day: date, tz: ZoneInfo) -> int:
    return round(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


async def pushed_days(*, store: TelemetryStore, district: str, site: str, start_ms: int,
                      end_ms: int) -> list[ProductionRecord]:
    """The pushed daily figures whose local midnight lies in ``[start_ms, end_ms)``, newest push
    per day, in day order."""
    events = await store.events(EventKind.PRODUCTION, district=district, site=site, start_ms=start_ms,
                                end_ms=end_ms, limit=10_000)
    newest: dict[str, ProductionRecord] = {}
    for e in events:
        d = e.document
        try:
            record = ProductionRecord(day=d["day"], output_units=d["output_units"], unit=d.get("unit"),
                                      set_by=d.get("user"), set_at_ms=d.get("set_at_ms", e.ts_ms))
        except (KeyError, ValueError):
            continue  # not a document this module wrote
        seen = newest.get(e.key)
        if seen is None or (record.set_at_ms or 0) > (seen.set_at_ms or 0):
            newest[e.key] = record
    return sorted(newest.values(), key=lambda r: r.day)


async def output_per_interval(
    *, store: TelemetryStore, district: DistrictConfig, site: SiteConfig, edges: npt.NDArray[np.int64],
    daily_edges: bool,
) -> npt.NDArray[np.float64] | None:
    """Output per interval of ``edges``, NaN where unknown; None when the site has no source of
    output, or only pushed days and the intervals are shorter than a day."""
    water = site.water
    if water is None:
        return None
    start_ms, end_ms = int(edges[0]), int(edges[-1])
    if water.production_device is not None:
        found = await counter_readings(store, district=district.district, site=site.id, quantity=QUANTITY,
                                       devices={water.production_device}, start_ms=start_ms, end_ms=end_ms)
        times, values = found.get(water.production_device, ([], []))
        if len(times) >= 2:
            return counter_per_interval(times, values, edges)
        return np.full(edges.size - 1, np.nan)
    if not daily_edges:
        return None
    days = await pushed_days(store=store, district=district.district, site=site.id, start_ms=start_ms,
                             end_ms=end_ms)
    if not days:
        return None
    tz = ZoneInfo(district.timezone)
    out = np.full(edges.size - 1, np.nan)
    for record in days:
        k = int(np.searchsorted(edges, _midnight_ms(record.day, tz), side="right")) - 1
        if 0 <= k < out.size:
            out[k] = record.output_units if math.isnan(out[k]) else out[k] + record.output_units
    return out


@router.put("/sites/{site}/production", summary="Push a site's production output per day (for water "
            "intensity)", responses=problems(403, 404, 422, 503))
async def put_production(
    site: SiteDep, state: StateDep, principal: SiteManagerDep,
    body: Annotated[ProductionPush, Body(openapi_examples={"two days": {
        "summary": "Two days of dyed fabric, in kg", "value": {"days": [
            {"day": "2026-11-23", "output_units": 1180.0},
            {"day": "2026-11-24", "output_units": 1250.0}]}}})],
) -> list[ProductionRecord]:
    if site.water is None:
        raise ProblemError(404, f"site '{site.id}' has no water section in the registry, so no water "
                                "intensity to compute")
    if site.water.production_device is not None:
        raise ProblemError(422, f"site '{site.id}' counts its output with device "
                                f"'{site.water.production_device}'; pushed figures would be ignored")
    tz = ZoneInfo(state.district.timezone)
    now_ms = district_clock().now_ms()
    if any(_midnight_ms(d.day, tz) > now_ms for d in body.days):
        raise ProblemError(422, "body.days: a day in the future has no output yet")
    unit = site.water.production_unit
    records = [ProductionRecord(day=d.day, output_units=d.output_units, unit=unit, set_by=principal.name,
                                set_at_ms=now_ms) for d in body.days]
    await state.store.write_events([
        Event(EventKind.PRODUCTION, state.district.district, site.id, _midnight_ms(r.day, tz),
              r.day.isoformat(), {"day": r.day.isoformat(), "output_units": r.output_units, "unit": unit,
                                  "user": principal.name, "set_at_ms": now_ms})
        for r in records])
    return records


@router.get("/sites/{site}/production", summary="A site's pushed production output per day",
            responses=problems(403, 404, 422, 503))
async def get_production(site: SiteDep, state: StateDep, from_: FromQuery = None,
                         to: ToQuery = None) -> list[ProductionRecord]:
    start_ms, end_ms = resolve_period(from_, to)
    return await pushed_days(store=state.store, district=state.district.district, site=site.id,
                             start_ms=start_ms, end_ms=end_ms)
