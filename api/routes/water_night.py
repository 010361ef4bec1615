"""Night flow an operator can act on (issue 20): the leak ranking with estimated volumes, and the
calendar of declared night shifts that the leak check keeps out of the normal night baseline.

Scope: the operator sees every firm; a site manager only their own; the public nothing here
(a ranking, even of totals, shows single firms).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field

from api.auth.principal import Principal
from api.deps import PrincipalDep, SiteDep, SiteManagerDep, StateDep
from api.problems import ProblemError, problems
from api.routes.alerts import alert_states
from api.state import ApiState
from nzd.accounting.water_calendar import (
    NIGHT_SHIFT_LOOKBACK_DAYS,
    declared_night_shifts,
    night_shift_events,
    night_shift_key,
)
from nzd.clock import district_clock
from nzd.config import SiteConfig
from nzd.store.base import Event, EventKind

router = APIRouter(prefix="/api/v1", tags=["water"])

_NIGHT_FLOW = "night_flow_leak"
_DAYS_BACK, _DAYS_AHEAD = 100, 366
_MAX_NIGHTS = 62


class LeakRow(BaseModel):
    site: str = Field(examples=["tintoria-rossi"])
    device: str | None = Field(None, examples=["intake-public"])
    alert_id: str = Field(examples=["leak-tintoria-rossi-intake-public-20261124"])
    since_ms: int = Field(description="when the alert was raised", examples=[1_764_025_200_000])
    min_night_flow_m3h: float | None = Field(None, examples=[0.65])
    legit_night_use_m3h: float = Field(description="the meter's legitimate night use (registry)",
                                       examples=[0.15])
    leakage_m3_per_day: float = Field(description="(minimum night flow - legitimate use) x the hour-day "
                                      "factor", examples=[12.0])
    leakage_eur_per_day: float | None = Field(None, description="the volume at the site's price for the "
                                              "meter's source; null without a price", examples=[21.6])
    acknowledged_by: str | None = None
    message: str


async def leak_ranking(state: ApiState, principal: Principal) -> list[LeakRow]:
    """Active night-flow alerts of the sites the caller may see, largest estimated volume first."""
    rows = []
    for a in await alert_states(state, None, active_only=True):
        alert = a.alert
        if alert.kind != _NIGHT_FLOW or not principal.may_see_site(alert.site):
            continue
        try:
            site: SiteConfig | None = state.district.site(alert.site)
        except KeyError:
            site = None
        water = site.water if site is not None else None
        meter = next((m for m in water.meters if m.device == alert.device), None) if water else None
        legit = meter.legit_night_use_m3h if meter else 0.0
        hdf = water.hour_day_factor_h if water else 24.0
        volume = max(0.0, (alert.value or 0.0) - legit) * hdf
        price = water.price_eur_per_m3.get(meter.source) if water and meter and meter.source else None
        rows.append(LeakRow(site=alert.site, device=alert.device, alert_id=alert.id, since_ms=alert.ts,
                            min_night_flow_m3h=alert.value, legit_night_use_m3h=legit,
                            leakage_m3_per_day=round(volume, 3),
                            leakage_eur_per_day=round(volume * price, 2) if price is not None else None,
                            acknowledged_by=a.acknowledged_by, message=alert.message))
    rows.sort(key=lambda r: (r.leakage_m3_per_day, r.leakage_eur_per_day or 0.0), reverse=True)
    return rows


@router.get("/district/water/leaks", summary="Active leaks ranked by estimated volume and cost (operator: "
            "every firm; site manager: their own)", responses=problems(403, 503))
async def get_leaks(state: StateDep, principal: PrincipalDep) -> list[LeakRow]:
    if principal.district_only:
        raise ProblemError(403, "leaks are shown to the operator and each firm's site manager: a ranking "
                                "would show single firms")
    return await leak_ranking(state, principal)


# -- night shifts ---------------------------------------------------------------------------------

class NightShift(BaseModel):
    night: date = Field(description="the local date on which the night with production starts",
                        examples=["2026-12-04"])
    source: str = Field(description="'registry' or 'declared' (through this API)", examples=["declared"])
    set_by: str | None = Field(None, examples=["rossi"])
    set_at_ms: int | None = None


class NightShiftDeclaration(BaseModel):
    nights: Annotated[list[date], Field(min_length=1, max_length=_MAX_NIGHTS)] = Field(
        examples=[["2026-12-04", "2026-12-05"]])


async def _shift_events(state: ApiState, site: SiteConfig) -> dict[date, Event]:
    now_ms = district_clock().now_ms()
    return night_shift_events(await state.store.events(
        EventKind.STATUS, district=state.district.district, site=site.id,
        start_ms=now_ms - NIGHT_SHIFT_LOOKBACK_DAYS * 86_400_000, limit=10_000))


async def night_shift_calendar(state: ApiState, site: SiteConfig) -> list[NightShift]:
    """The site's declared night shifts: the registry's plus the API's (the newest word per night),
    as the leak check reads them (``declared_night_shifts``)."""
    newest = await _shift_events(state, site)
    registry = site.water.night_shifts if site.water else []
    out = []
    for night in sorted(declared_night_shifts(newest.values(), registry=registry)):
        e = newest.get(night)
        out.append(NightShift(night=night, source="registry") if e is None else NightShift(
            night=night, source="declared", set_by=e.document.get("user"), set_at_ms=e.ts_ms))
    return out


async def _write_shifts(state: ApiState, site: SiteConfig, nights: list[date], *, declared: bool,
                        user: str) -> None:
    newest = await _shift_events(state, site)
    # Newer than the event it replaces even within the same millisecond: the newest word wins.
    ts_ms = max([district_clock().now_ms()] + [newest[n].ts_ms + 1 for n in nights if n in newest])
    await state.store.write_events([
        Event(EventKind.STATUS, state.district.district, site.id, ts_ms, night_shift_key(n),
              {"night": n.isoformat(), "declared": declared, "user": user}) for n in nights])


def _water_site(site: SiteConfig) -> None:
    if site.water is None or not site.water.meters:
        raise ProblemError(404, f"site '{site.id}' has no water meters in the registry")


@router.get("/sites/{site}/water/night-shifts", summary="The site's declared night shifts",
            responses=problems(403, 404, 503))
async def get_night_shifts(site: SiteDep, state: StateDep) -> list[NightShift]:
    _water_site(site)
    return await night_shift_calendar(state, site)


@router.put("/sites/{site}/water/night-shifts", summary="Declare night shifts (site manager of the site, "
            "operator): those nights are kept out of the normal night-flow baseline",
            responses=problems(403, 404, 422, 503))
async def put_night_shifts(
    site: SiteDep, state: StateDep, principal: SiteManagerDep,
    body: Annotated[NightShiftDeclaration, Body(openapi_examples={"two nights": {
        "summary": "A rush order: production on two nights",
        "value": {"nights": ["2026-12-04", "2026-12-05"]}}})],
) -> list[NightShift]:
    _water_site(site)
    today = datetime.fromtimestamp(district_clock().now_s(), ZoneInfo(state.district.timezone)).date()
    for night in body.nights:
        if not today - timedelta(days=_DAYS_BACK) <= night <= today + timedelta(days=_DAYS_AHEAD):
            raise ProblemError(422, f"body.nights: {night} is not within {_DAYS_BACK} days back and "
                                    f"{_DAYS_AHEAD} days ahead")
    await _write_shifts(state, site, sorted(set(body.nights)), declared=True, user=principal.name)
    return await night_shift_calendar(state, site)


@router.delete("/sites/{site}/water/night-shifts/{night}", summary="Withdraw a declared night shift (site "
               "manager of the site, operator)", responses=problems(403, 404, 422, 503))
async def delete_night_shift(
    site: SiteDep, state: StateDep, principal: SiteManagerDep,
    night: Annotated[date, Path(description="the local date the night starts", examples=["2026-12-04"])],
) -> list[NightShift]:
    _water_site(site)
    if not any(s.night == night for s in await night_shift_calendar(state, site)):
        raise ProblemError(404, f"no night shift declared at site '{site.id}' for {night}")
    await _write_shifts(state, site, [night], declared=False, user=principal.name)
    return await night_shift_calendar(state, site)
