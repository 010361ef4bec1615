"""Latest values, power flows and history with aggregation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.csv_export import CSV_RESPONSE, CsvDep, series_csv
from api.deps import PrincipalDep, SiteDep, StateDep, guard_public_total
from api.flows import Flows
from api.periods import FromQuery, IntervalQuery, ToQuery, parse_interval_s, resolve_period
from api.problems import ProblemError, problems
from nzd.identifiers import check_identifier
from nzd.messages import DeviceKind
from nzd.quantities import QUANTITIES
from nzd.store.base import Aggregation

router = APIRouter(prefix="/api/v1", tags=["readings"])

_SITE_ERRORS = problems(403, 404, 503)
_RAW_MAX_MS = 2 * 86_400_000


class ReadingOut(BaseModel):
    site: str = Field(examples=["tintoria-rossi"])
    device: str = Field(examples=["main-meter"])
    kind: DeviceKind = Field(examples=["electricity_meter"])
    ts_ms: int = Field(description="when the registers were read (epoch ms, UTC)",
                       examples=[1_764_064_800_000])
    values: dict[str, float] = Field(description="the last value known of each quantity",
                                     examples=[{"active_power_w": 42_000.0, "energy_import_wh": 1.2e7}])
    seq: int = Field(description="the gateway's sequence number of the newest reading", examples=[18_342])
    quality: dict[str, str] = Field(
        default_factory=dict, description="quantities the newest reading flagged as not good (bad, "
        "comm_error, nan, out_of_range, uncertain...); their value may be older", examples=[{}])
    replayed: bool = Field(False, description="the newest reading came out of the gateway's buffer "
                           "after an outage", examples=[False])
    old: bool = Field(False, description="the newest reading is older than the lookback "
                      "(NZD_LATEST_LOOKBACK_S): the device has been silent that long", examples=[False])


class SeriesOut(BaseModel):
    site: str = Field(examples=["tintoria-rossi"])
    device: str = Field(examples=["main-meter"])
    kind: DeviceKind
    times_ms: list[int] = Field(examples=[[1_764_000_000_000, 1_764_000_900_000]])
    values: dict[str, list[float | None]] = Field(examples=[{"active_power_w": [41_800.0, None]}])


def _check_device(device: str | None) -> None:
    if device is not None and not check_identifier(device):
        raise ProblemError(422, f"query.device: {device!r} is not a device id ([a-z0-9_-]{{1,64}})")


DeviceQuery = Annotated[str | None, Query(description="Only this device", examples=["main-meter"],
                                          max_length=64)]


# These three read the in-memory table (api.latest_cache) and return its ready-made JSON;
# response_model keeps the documented schema.
@router.get("/sites/{site}/latest", summary="The newest value of every quantity, per device",
            responses=_SITE_ERRORS, response_model=list[ReadingOut])
async def latest(site: SiteDep, state: StateDep, device: DeviceQuery = None) -> Response:
    _check_device(device)
    await state.latest.ensure_filled(state.store)
    return Response(state.latest.site_json(site.id, device=device), media_type="application/json")


@router.get("/sites/{site}/flows", summary="Power flows now: grid, PV, battery, loads, water intake",
            responses=_SITE_ERRORS, response_model=Flows)
async def flows(site: SiteDep, state: StateDep) -> Response:
    await state.latest.ensure_filled(state.store)
    return Response(state.latest.site_flows_json(site.id), media_type="application/json")


@router.get("/district/flows", summary="District totals of the power flows (public)",
            responses=problems(403, 503), response_model=Flows)
async def district_flows(state: StateDep, principal: PrincipalDep) -> Response:
    await state.latest.ensure_filled(state.store)
    hidden = principal.hidden_indexes(state.latest.site_ids())
    _, contributing, body = state.latest.district_flows(hidden=hidden)
    guard_public_total(principal, contributing, "power flows")
    return Response(body, media_type="application/json")


@router.get("/sites/{site}/history", summary="Values over a period, aggregated per interval",
            responses={**_SITE_ERRORS, **CSV_RESPONSE}, response_model=list[SeriesOut])
async def history(
    site: SiteDep,
    state: StateDep,
    as_csv: CsvDep,
    quantities: Annotated[list[str], Query(
        description="Quantity names (repeat the parameter or separate with commas)",
        examples=[["active_power_w"]], min_length=1, max_length=20)],
    from_: FromQuery = None,
    to: ToQuery = None,
    interval: IntervalQuery = None,
    aggregation: Annotated[Aggregation, Query(description="How values in a bucket combine")] =
    Aggregation.MEAN,
    device: DeviceQuery = None,
    kind: Annotated[DeviceKind | None, Query(description="Only devices of this kind")] = None,
) -> Any:
    _check_device(device)
    names = [q.strip() for item in quantities for q in item.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUANTITIES]
    if not names or unknown:
        raise ProblemError(422, f"query.quantities: unknown quantity {(unknown or [''])[0]!r}; "
                                "see the quantity vocabulary in docs/api.md")
    start_ms, end_ms = resolve_period(from_, to)
    every_s = parse_interval_s(interval, span_ms=end_ms - start_ms)
    if every_s is None and end_ms - start_ms > _RAW_MAX_MS:
        raise ProblemError(422, "query.interval: raw values are limited to 2 days; give an interval")
    series = await state.store.history(
        district=state.district.district, site=site.id, device=device, kind=kind, quantities=names,
        start_ms=start_ms, end_ms=end_ms, every_s=every_s, aggregation=aggregation)
    out = [SeriesOut(site=s.site, device=s.device, kind=s.kind, times_ms=s.times_ms, values=s.values)
           for s in series]
    if as_csv:
        return series_csv(out, tz=state.district.timezone, filename=f"{site.id}-history")
    return out
