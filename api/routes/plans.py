"""Plans, setpoints and acknowledgements (from the store, where the coordinator writes them),
and the operator's manual setpoints (published over MQTT)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.auth.principal import Principal, Role
from api.deps import OperatorDep, PrincipalDep, SiteDep, StateDep
from api.live import MqttUnavailable
from api.problems import ProblemError, problems
from nzd.clock import district_clock
from nzd.config import SiteConfig, setpoint_limits
from nzd.messages import Setpoint, SetpointSource
from nzd.store.base import Event, EventKind

router = APIRouter(prefix="/api/v1", tags=["plans"])

_SITE_ERRORS = problems(403, 404, 503)
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="At most this many, newest first")]


class PlanOut(BaseModel):
    plan_id: str = Field(examples=["plan-20261125T0900"])
    ts_ms: int = Field(examples=[1_764_061_200_000])
    document: dict[str, Any] = Field(description="The plan as the coordinator stored it, cut to the "
                                                 "caller's sites", examples=[{"status": "optimal"}])


class EventOut(BaseModel):
    site: str = Field(examples=["depuratore"])
    ts_ms: int = Field(examples=[1_764_061_200_000])
    key: str = Field(examples=["community-battery:1764061200000"])
    document: dict[str, Any] = Field(examples=[{"asset": "community-battery", "value": -50_000.0}])


class ManualSetpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset: str = Field(description="A controllable asset of the site", examples=["community-battery"],
                       max_length=64)
    quantity: str = Field(examples=["battery_power_setpoint_w"], max_length=64)
    value: float = Field(allow_inf_nan=False, examples=[-50_000.0])
    valid_minutes: int = Field(15, ge=1, le=1440, description="How long it holds, overriding the plan",
                               examples=[30])


#: What a site manager sees of a plan besides their own sites' parts: district-wide facts that
#: name no firm. Anything else (``message``, ``reason``, keys added later) stays with the
#: operator: free text may name other firms, and a new key is private until it is listed here.
_DISTRICT_KEYS = frozenset({
    "plan_id", "optimiser_plan_id", "district", "start_ms", "step_minutes", "status", "objective_eur",
    "bound_eur", "mip_gap", "solve_time_s", "solve_s", "incentive_eur", "shared_energy_kwh", "water_severity",
    "forecast_method"})


def scope_plan(document: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """An operator sees the whole plan; a site manager the district-wide facts and their sites' parts."""
    if principal.role is Role.OPERATOR:
        return document
    mine = principal.may_see_site
    doc = {k: v for k, v in document.items() if k in _DISTRICT_KEYS}
    sites = document.get("sites")
    if isinstance(sites, dict):
        doc["sites"] = {s: v for s, v in sites.items() if mine(s)}
    for key in ("assets", "targets", "limit_breaches"):
        items = document.get(key)
        if isinstance(items, list):
            doc[key] = [i for i in items if isinstance(i, dict) and mine(str(i.get("site", "")))]
    for key in ("excluded", "stale", "manual"):  # "site/asset" entries
        entries = document.get(key)
        if isinstance(entries, list):
            doc[key] = [e for e in entries if isinstance(e, str) and mine(e.split("/")[0])]
    return doc


def _event_out(e: Event) -> EventOut:
    return EventOut(site=e.site, ts_ms=e.ts_ms, key=e.key, document=e.document)


def _check_limits(site: SiteConfig, body: ManualSetpoint) -> None:
    """The registry's range and quantity for the asset, checked before anything is published."""
    limits = setpoint_limits(site)
    limit = limits.get(body.asset)
    if limit is None:
        known = ", ".join(sorted(limits)) or "none"
        raise ProblemError(422, f"body.asset: site '{site.id}' has no controllable asset '{body.asset}' "
                                f"(controllable: {known})")
    if body.quantity != limit.quantity:
        raise ProblemError(422, f"body.quantity: asset '{body.asset}' takes {limit.quantity}, "
                                f"not '{body.quantity}'")
    if not limit.min_value <= body.value <= limit.max_value:
        raise ProblemError(422, f"body.value: {body.value:g} is outside the limits of asset '{body.asset}': "
                                f"{limit.min_value:g}..{limit.max_value:g} ({limit.source} in the "
                                "district registry)")


@router.get("/plans", summary="The newest plans, cut to the caller's sites",
            responses=problems(403, 503))
async def list_plans(state: StateDep, principal: PrincipalDep, limit: LimitQuery = 4) -> list[PlanOut]:
    if principal.district_only:
        raise ProblemError(403, "plans name single firms; the public view shows district aggregates only")
    events = await state.store.events(EventKind.PLAN, district=state.district.district, limit=limit)
    return [PlanOut(plan_id=e.key, ts_ms=e.ts_ms, document=scope_plan(e.document, principal)) for e in events]


@router.get("/sites/{site}/plan", summary="The current plan for one site", responses=_SITE_ERRORS)
async def site_plan(site: SiteDep, state: StateDep) -> PlanOut | None:
    events = await state.store.events(EventKind.PLAN, district=state.district.district, limit=1)
    if not events:
        return None
    e = events[0]
    only = Principal(name="site", role=Role.SITE_MANAGER, sites=frozenset({site.id}))
    return PlanOut(plan_id=e.key, ts_ms=e.ts_ms, document=scope_plan(e.document, only))


@router.get("/sites/{site}/setpoints", summary="Setpoints sent to the site, plan and manual",
            responses=_SITE_ERRORS)
async def setpoints(site: SiteDep, state: StateDep, limit: LimitQuery = 100) -> list[EventOut]:
    events = await state.store.events(EventKind.SETPOINT, district=state.district.district, site=site.id,
                                      limit=limit)
    return [_event_out(e) for e in events]


@router.get("/sites/{site}/acks", summary="Acknowledgements of the site's setpoints",
            responses=_SITE_ERRORS)
async def acks(site: SiteDep, state: StateDep, limit: LimitQuery = 100) -> list[EventOut]:
    events = await state.store.events(EventKind.ACK, district=state.district.district, site=site.id,
                                      limit=limit)
    # Alert acknowledgements share the event kind; they are served under /alerts.
    return [_event_out(e) for e in events if "alert_id" not in e.document]


@router.post("/sites/{site}/setpoints", status_code=202,
             summary="Send a manual setpoint (operator); it overrides the plan while valid",
             responses=problems(403, 404, 422, 503))
async def send_setpoint(
    site: SiteDep, state: StateDep, operator: OperatorDep,
    body: Annotated[ManualSetpoint, Body(openapi_examples={"battery": {
        "summary": "Charge the community battery at 50 kW for 30 minutes",
        "value": {"asset": "community-battery", "quantity": "battery_power_setpoint_w",
                  "value": -50_000, "valid_minutes": 30}}})],
) -> EventOut:
    _check_limits(site, body)
    now_ms = district_clock().now_ms()
    try:
        sp = Setpoint(id=state.setpoint_ids.next(issued_at_ms=now_ms), asset=body.asset,
                      quantity=body.quantity, value=body.value,
                      valid_from=now_ms, valid_until=now_ms + body.valid_minutes * 60_000,
                      issued_at=now_ms, source=SetpointSource.MANUAL)
    except ValidationError as exc:
        raise ProblemError(422, f"body: {exc.errors(include_url=False)[0]['msg']}") from None
    try:
        await state.hub.publish_setpoint(site.id, sp)
    except MqttUnavailable as exc:
        raise ProblemError(503, f"{exc}; the setpoint was not sent") from None
    event = Event(EventKind.SETPOINT, state.district.district, site.id, now_ms, f"{sp.asset}:{sp.id}",
                  {"site": site.id, **sp.model_dump(mode="json", exclude_none=True), "user": operator.name})
    await state.store.write_events([event])
    return _event_out(event)
