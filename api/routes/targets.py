"""The district's targets (docs/reports.md): read by anyone, set by the authority or the operator,
every change kept as an event; progress per year against each target's path."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from api.auth.principal import Principal
from api.deps import PrincipalDep, StateDep
from api.district_year import yearly_actuals
from api.problems import ProblemError, problems
from api.state import ApiState
from nzd.clock import district_clock
from nzd.store.base import Event, EventKind
from nzd.targets import METRICS, Metric, Status, Target, path_value, progress

router = APIRouter(prefix="/api/v1", tags=["targets"])


class TargetOut(Target):
    metric: Metric = Field(examples=["co2_electricity_t"])
    label: str = Field(examples=["CO2 from electricity"])
    unit: str = Field(examples=["t CO2"])
    lower_is_better: bool = Field(examples=[True])
    set_by: str = Field(examples=["comune-prato"])
    set_by_role: str = Field(examples=["authority"])
    set_at_ms: int = Field(examples=[1_764_025_200_000])


class YearValue(BaseModel):
    year: int = Field(examples=[2026])
    value: float | None = Field(examples=[377.2])


class TargetProgress(BaseModel):
    target: TargetOut
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


def _out(e: Event) -> TargetOut:
    d = e.document
    info = METRICS[Metric(e.key)]
    return TargetOut(metric=Metric(e.key), label=info.label, unit=info.unit,
                     lower_is_better=info.lower_is_better,
                     set_by=d["set_by"], set_by_role=d["set_by_role"], set_at_ms=e.ts_ms,
                     **Target.model_validate(d["target"]).model_dump())


async def target_history(state: ApiState, metric: Metric | None = None) -> list[TargetOut]:
    """Every change, newest first."""
    events = await state.store.events(EventKind.TARGET, district=state.district.district, site="*",
                                      limit=5000)
    return [_out(e) for e in events if metric is None or e.key == metric.value]


async def current_targets(state: ApiState) -> list[TargetOut]:
    newest: dict[Metric, TargetOut] = {}
    for t in await target_history(state):
        newest.setdefault(t.metric, t)
    return [newest[m] for m in Metric if m in newest]


def require_target_setter(principal: PrincipalDep) -> Principal:
    if not principal.may_set_targets:
        raise ProblemError(403, f"only the authority or the operator may set targets ({principal.role.value} "
                                f"'{principal.name}' asked)")
    return principal


MetricPath = Annotated[Metric, Path(description="which target", examples=["co2_electricity_t"])]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="default: the current local year")]


@router.get("/district/targets", summary="The district's targets as set now (public)")
async def get_targets(state: StateDep) -> list[TargetOut]:
    return await current_targets(state)


@router.get("/district/targets/history", summary="Every change to the targets, newest first (public)")
async def get_target_history(state: StateDep, metric: Metric | None = None) -> list[TargetOut]:
    return await target_history(state, metric)


@router.put("/district/targets/{metric}", summary="Set one target (authority or operator)",
            responses=problems(403, 422, 503))
async def put_target(metric: MetricPath, state: StateDep,
                     principal: Annotated[Principal, Depends(require_target_setter)],
                     target: Annotated[Target, Body()]) -> TargetOut:
    info = METRICS[metric]
    if info.ratio and max(target.baseline_value, target.target_value) > 1:
        raise ProblemError(422, f"body: {metric.value} is a share between 0 and 1")
    doc = {"target": target.model_dump(), "set_by": principal.name, "set_by_role": principal.role.value}
    event = Event(EventKind.TARGET, state.district.district, "*", district_clock().now_ms(), metric.value,
                  doc)
    await state.store.write_events([event])
    return _out(event)


@router.get("/district/targets/progress", summary="Each target's path and the measured value per year "
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
