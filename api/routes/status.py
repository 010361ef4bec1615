"""Gateways and their devices: online or not, last read, errors, buffered readings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, SiteDep, StateDep
from api.problems import problems
from nzd.messages import GatewayStatus
from nzd.store.base import EventKind

router = APIRouter(prefix="/api/v1", tags=["status"])


class GatewayOut(BaseModel):
    site: str = Field(examples=["tintoria-rossi"])
    status: dict[str, Any] = Field(description="The gateway's last status message", examples=[{
        "gateway": "gw-rossi", "state": "online", "ts": 1_764_061_200_000,
        "devices": {"main-meter": {"online": True, "errors": 0}}}])


class StatusSummary(BaseModel):
    gateways_online: int = Field(examples=[4])
    gateways_offline: int = Field(examples=[0])
    devices_online: int = Field(examples=[11])
    devices_offline: int = Field(examples=[1])
    gateways: list[GatewayOut] = Field(description="per gateway, for the sites the caller may see; "
                                                   "empty for the public")


async def _statuses(state: Any, site: str | None) -> dict[tuple[str, str], GatewayStatus]:
    """The newest status per gateway: retained MQTT messages, else what the store holds."""
    out: dict[tuple[str, str], GatewayStatus] = {}
    events = await state.store.events(EventKind.STATUS, district=state.district.district, site=site,
                                      limit=1000)
    for e in reversed(events):  # oldest first, so newer ones win
        try:
            status = GatewayStatus.model_validate(e.document)
        except ValueError:
            continue
        out[(e.site, status.gateway)] = status
    for key, status in state.hub.statuses.items():
        if site is not None and key[0] != site:
            continue
        if key not in out or out[key].ts <= status.ts:
            out[key] = status
    return out


def _summary(statuses: dict[tuple[str, str], GatewayStatus], *, detail: bool) -> StatusSummary:
    s = StatusSummary(gateways_online=0, gateways_offline=0, devices_online=0, devices_offline=0, gateways=[])
    for (site, _), st in sorted(statuses.items()):
        online = st.state.value == "online"
        s.gateways_online += online
        s.gateways_offline += not online
        for dev in st.devices.values():
            s.devices_online += online and dev.online
            s.devices_offline += not (online and dev.online)
        if detail:
            s.gateways.append(GatewayOut(site=site, status=st.model_dump(mode="json", exclude_none=True)))
    return s


@router.get("/status", summary="Gateway and device counts; per-gateway detail for the caller's sites",
            responses=problems(503))
async def district_status(state: StateDep, principal: PrincipalDep) -> StatusSummary:
    statuses = await _statuses(state, None)
    if principal.district_only:
        return _summary(statuses, detail=False)
    return _summary({k: v for k, v in statuses.items() if principal.may_see_site(k[0])}, detail=True)


@router.get("/sites/{site}/status", summary="The site's gateways and devices",
            responses=problems(403, 404, 503))
async def site_status(site: SiteDep, state: StateDep) -> StatusSummary:
    return _summary(await _statuses(state, site.id), detail=True)
