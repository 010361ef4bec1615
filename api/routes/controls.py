"""What each controllable asset of a site accepts as a manual setpoint: quantity, unit, sign, limits."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SiteDep
from api.problems import problems
from nzd.config.limits import BATTERY_QUANTITY, LOAD_QUANTITY, PUMP_QUANTITY, setpoint_limits

router = APIRouter(prefix="/api/v1", tags=["plans"])

_MEANING = {
    BATTERY_QUANTITY: ("battery", "W", "positive discharges the battery, negative charges it"),
    LOAD_QUANTITY: ("flexible_load", "W", "the batch's power; 0 holds it"),
    PUMP_QUANTITY: ("pump", "m3/h", "the pump's flow into the tank; 0 stops it"),
}


class ControlOut(BaseModel):
    asset: str = Field(examples=["battery"])
    kind: str = Field(examples=["battery"])
    quantity: str = Field(examples=[BATTERY_QUANTITY])
    unit: str = Field(examples=["W"])
    sign: str = Field(description="What the value's sign means", examples=[_MEANING[BATTERY_QUANTITY][2]])
    min_value: float = Field(examples=[-30000.0])
    max_value: float = Field(examples=[30000.0])
    source: str = Field(description="Where the limits come from in the district registry",
                        examples=["batteries[battery].charge_kw/discharge_kw"])


@router.get("/sites/{site}/controls", summary="The site's controllable assets and their setpoint limits",
            responses=problems(403, 404))
async def site_controls(site: SiteDep) -> list[ControlOut]:
    out = []
    for limit in setpoint_limits(site).values():
        kind, unit, sign = _MEANING[limit.quantity]
        out.append(ControlOut(asset=limit.asset, kind=kind, quantity=limit.quantity, unit=unit, sign=sign,
                              min_value=limit.min_value, max_value=limit.max_value, source=limit.source))
    return out
