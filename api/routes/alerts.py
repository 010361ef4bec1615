"""Alerts per site (newest state of each alert id), and their acknowledgement by site managers.

An acknowledgement is stored as an ACK event keyed ``alert:<id>``, never as a changed
alert document, so writers of alerts (leak detection) keep reading valid alerts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PrincipalDep, SiteDep, SiteManagerDep, StateDep
from api.problems import ProblemError, problems
from api.state import ApiState
from nzd.clock import district_clock
from nzd.identifiers import check_identifier
from nzd.messages import Alert
from nzd.store.base import Event, EventKind

router = APIRouter(prefix="/api/v1", tags=["alerts"])

_LOOKBACK_MS = 31 * 86_400_000


class AlertOut(BaseModel):
    alert: Alert
    acknowledged_by: str | None = Field(None, examples=["rossi"])
    acknowledged_at_ms: int | None = Field(None, examples=[1_764_064_800_000])


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=500, examples=["valve on line 3 closed, checking tomorrow"])


ActiveQuery = Annotated[bool, Query(description="Only alerts still active")]


async def alert_states(state: ApiState, site: str | None, *, active_only: bool) -> list[AlertOut]:
    d = state.district.district
    since_ms = district_clock().now_ms() - _LOOKBACK_MS
    newest: dict[str, Event] = {}
    for e in await state.store.events(EventKind.ALERT, district=d, site=site, start_ms=since_ms, limit=5000):
        if e.key not in newest or e.ts_ms > newest[e.key].ts_ms:
            newest[e.key] = e
    acks: dict[str, Event] = {}
    for e in await state.store.events(EventKind.ACK, district=d, site=site, start_ms=since_ms, limit=5000):
        alert_id = e.document.get("alert_id")
        if isinstance(alert_id, str) and alert_id not in acks:
            acks[alert_id] = e
    out = []
    for key, e in newest.items():
        try:
            alert = Alert.model_validate(e.document)
        except ValueError:
            continue
        if active_only and not alert.active:
            continue
        ack = acks.get(key)
        out.append(AlertOut(alert=alert, acknowledged_by=ack.document.get("user") if ack else None,
                            acknowledged_at_ms=ack.ts_ms if ack else None))
    out.sort(key=lambda a: a.alert.ts, reverse=True)
    return out


@router.get("/alerts", summary="Alerts of every site the caller may see (none for the public)",
            responses=problems(503))
async def list_alerts(state: StateDep, principal: PrincipalDep, active_only: ActiveQuery = False
                      ) -> list[AlertOut]:
    if principal.district_only:
        return []
    return [a for a in await alert_states(state, None, active_only=active_only)
            if principal.may_see_site(a.alert.site)]


@router.get("/sites/{site}/alerts", summary="The site's alerts",
            responses=problems(403, 404, 503))
async def site_alerts(site: SiteDep, state: StateDep, active_only: ActiveQuery = False) -> list[AlertOut]:
    return await alert_states(state, site.id, active_only=active_only)


@router.post("/sites/{site}/alerts/{alert_id}/ack", summary="Acknowledge an alert (site manager, operator)",
             responses=problems(403, 404, 503))
async def ack_alert(
    site: SiteDep, state: StateDep, user: SiteManagerDep,
    alert_id: Annotated[str, Path(max_length=64, examples=["leak-tintoria-rossi-intake-public-20261124"])],
    body: Annotated[AckBody | None, Body()] = None,
) -> AlertOut:
    if not check_identifier(alert_id):
        raise ProblemError(404, f"no alert '{alert_id}' at site '{site.id}'")
    found = [a for a in await alert_states(state, site.id, active_only=False) if a.alert.id == alert_id]
    if not found:
        raise ProblemError(404, f"no alert '{alert_id}' at site '{site.id}'")
    now_ms = district_clock().now_ms()
    doc = {"alert_id": alert_id, "site": site.id, "user": user.name,
           "comment": body.comment if body else ""}
    await state.store.write_events([Event(EventKind.ACK, state.district.district, site.id, now_ms,
                                          f"alert:{alert_id}", doc)])
    return AlertOut(alert=found[0].alert, acknowledged_by=user.name, acknowledged_at_ms=now_ms)
