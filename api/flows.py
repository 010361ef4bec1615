"""Power flows of a site (grid, PV, battery, loads, water) from its latest device values.

Which device is the grid, PV or battery meter comes from the registry (``meters``,
``pv[].device``, ``batteries[].device``; water intake meters from ``water``).
Signs follow the quantity vocabulary: grid positive = import, battery positive =
discharging; loads are what the balance leaves: grid + PV + battery.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pydantic import BaseModel, Field

from api.public import viewer_figure, viewer_total
from nzd.config import MeterRole, SiteConfig, WaterMeterRole

__all__ = ["Flows", "site_flows", "sum_flows"]


class Flows(BaseModel):
    grid_w: float | None = Field(None, description="positive = import", examples=[42_000.0])
    pv_w: float | None = Field(None, examples=[61_500.0])
    battery_w: float | None = Field(None, description="positive = discharging", examples=[-20_000.0])
    load_w: float | None = Field(None, description="grid + PV + battery", examples=[83_500.0])
    water_intake_m3h: float | None = Field(None, examples=[12.5])
    battery_soc_pct: float | None = Field(None, examples=[64.0])
    ts_ms: int | None = Field(None, description="newest reading used", examples=[1_764_064_800_000])


def _devices(site: SiteConfig, role: MeterRole) -> set[str]:
    found = {m.device for m in site.meters if m.role is role}
    if role is MeterRole.PV:
        found |= {p.device for p in site.pv if p.device}
    if role is MeterRole.BATTERY:
        found |= {b.device for b in site.batteries if b.device}
    return found


def _add(total: float | None, value: float | None) -> float | None:
    if value is None:
        return total
    return value if total is None else total + value


def site_flows(site: SiteConfig, latest: Mapping[str, tuple[int, Mapping[str, float]]]) -> Flows:
    """``latest`` maps device id to (ts_ms, values) of its newest reading."""
    flows = Flows()
    newest: int | None = None
    for device, (ts_ms, values) in latest.items():
        used = False
        if device in _devices(site, MeterRole.GRID) and "active_power_w" in values:
            flows.grid_w = _add(flows.grid_w, values["active_power_w"])
            used = True
        if device in _devices(site, MeterRole.PV):
            pv = values.get("pv_power_w", values.get("active_power_w"))
            if pv is not None:
                flows.pv_w = _add(flows.pv_w, abs(pv))
                used = True
        if device in _devices(site, MeterRole.BATTERY):
            if "battery_power_w" in values:
                flows.battery_w = _add(flows.battery_w, values["battery_power_w"])
                used = True
            if "battery_soc_pct" in values:
                flows.battery_soc_pct = values["battery_soc_pct"]
        if site.water is not None:
            intakes = {m.device for m in site.water.meters if m.role is WaterMeterRole.INTAKE}
            if device in intakes and "water_flow_m3h" in values:
                flows.water_intake_m3h = _add(flows.water_intake_m3h, values["water_flow_m3h"])
                used = True
        if used:
            newest = ts_ms if newest is None else max(newest, ts_ms)
    if flows.grid_w is not None:
        flows.load_w = flows.grid_w + (flows.pv_w or 0.0) + (flows.battery_w or 0.0)
    flows.ts_ms = newest
    return flows


def sum_flows(parts: list[Flows], *, hidden: Collection[int] | None) -> Flows:
    """District totals of the sites' ``parts``; the state of charge is left out (it does not add up).

    ``hidden``: the indexes in ``parts`` of the sites the viewer may not see
    (``Principal.hidden_indexes``; None: the operator's plain totals). Every total passes the
    public rule on their contributions (api/public.py), ``load_w`` as the derived value it is: it
    shows only when grid, PV and battery would each show, so that ``load_w - grid_w`` never gives
    back one firm's PV or battery.
    """
    total = Flows()
    columns = {name: [getattr(f, name) for f in parts]
               for name in ("grid_w", "pv_w", "battery_w", "load_w", "water_intake_m3h")}
    for name, values in columns.items():
        reported = [v for v in values if v is not None]
        if not reported:
            continue
        if name == "load_w":
            total.load_w = viewer_figure(sum(reported), values, columns["grid_w"], columns["pv_w"],
                                         columns["battery_w"], hidden=hidden)
        else:
            setattr(total, name, viewer_total(values, hidden=hidden))
    stamps = [f.ts_ms for f in parts if f.ts_ms is not None]
    total.ts_ms = max(stamps) if stamps else None
    return total
