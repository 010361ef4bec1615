"""The district's targets (docs/reports.md): the agreed ones and every step that led to them, read by
anyone; progress per year against each agreed target's path. Proposing and agreeing:
api/routes/target_proposals.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, StateDep
from api.district_year import yearly_actuals
from api.problems import problems
from api.state import ApiState
from api.target_ledger import StepOut, TargetOut, read_ledger, step_out, target_out
from nzd.clock import district_clock
from nzd.targets import Metric, Status, path_value, progress

router = APIRouter(prefix="/api/v1", tags=["targets"])


class YearValue(BaseModel):
    year: int = Field(examples=[2026])
    value: float | None = Field(examples=[377.2])


class TargetProgress(BaseModel):
    target: TargetOut = Field(description="the agreed target")
    year: int = Field(examples=[2026])
    expected: float = Field(description="the path's value in the year", examples=[377.2])
    actual: float | None = Field(description="measured (null: no data, or withheld by the public rule)",
                                 examples=[390.0])
    gap: float | None = Field(description="actual - expected, in the target's unit", examples=[12.8])
    status: Status | None = Field(description="ahead, on_track or behind; null without a measured value",
                                  examples=["behind"])
    partial_year: bool = Field(description="the year is not over yet (or the data starts later): the "
                                           "measured value is the year so far", examples=[True])
    path: list[YearValue] = Field(description="the target's path, one value per year")
    measured: list[YearValue] = Field(description="the measured value per year, baseline year to `year`")


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


async def current_targets(state: ApiState) -> list[TargetOut]:
    """The agreed targets: what progress, reports and open data measure against."""
    return [target_out(a) for a in (await read_ledger(state)).agreed().values()]


YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="default: the current local year")]


@router.get("/district/targets", summary="The district's agreed targets (public)")
async def get_targets(state: StateDep) -> list[TargetOut]:
    return await current_targets(state)


@router.get("/district/targets/history", summary="Every step of every proposal, newest first (public)")
async def get_target_history(state: StateDep, metric: Metric | None = None) -> list[StepOut]:
    ledger = await read_ledger(state)
    return [step_out(s, counted=c) for s, c in reversed(ledger.steps) if metric is None or s.metric is metric]


@router.get("/district/targets/progress", summary="Each agreed target's path and the measured value per year "
            "(public: figures through the public rule)", responses=problems(422, 503))
async def get_progress(state: StateDep, principal: PrincipalDep,
                       year: YearQuery = None) -> list[TargetProgress]:
    targets = await current_targets(state)
    tz = ZoneInfo(state.district.timezone)
    this_year = datetime.fromtimestamp(district_clock().now_s(), tz).year
    year = year or this_year
    if not targets:
        return []
    first = min(min(t.baseline_year for t in targets), year)
    actuals = await yearly_actuals(state, principal, first_year=max(first, year - 19), last_year=year)
    out = []
    for t in targets:
        series = actuals.values.get(t.metric, {})
        actual = series.get(year)
        p = progress(t.metric, t, year=year, actual=actual) if actual is not None else None
        out.append(TargetProgress(
            target=t, year=year, expected=round(path_value(t, year), 4),
            actual=None if actual is None else round(actual, 4),
            gap=None if p is None else round(p.gap, 4), status=None if p is None else p.status,
            partial_year=actuals.partial.get(year, True),
            path=[YearValue(year=y, value=round(path_value(t, y), 4))
                  for y in range(t.baseline_year, t.target_year + 1)],
            measured=[YearValue(year=y, value=_round(series.get(y)))
                      for y in range(max(t.baseline_year, first), year + 1)]))
    return out
