"""The emission inventory of a year in the layout of the Covenant of Mayors' monitoring template:
final energy use (MWh) and CO2 (t) by sector and energy carrier (docs/reports.md).

Grid electricity is what the firms drew from the grid (metered import), at the year's
location-based factor; local PV is the metered PV the firms used themselves (PV minus what they
fed in, at least 0), without CO2; fuels are the yearly figures the registry names, at IPCC
default factors. Each cell keeps every firm's contribution so the public rule can judge it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nzd.config import DistrictConfig
from nzd.config.inventory import FUEL_T_PER_MWH, Carrier, Sector

__all__ = ["InventoryCell", "SiteYear", "inventory"]


@dataclass(frozen=True, slots=True)
class SiteYear:
    """One firm's metered electricity of the year, kWh."""

    import_kwh: float
    export_kwh: float
    pv_kwh: float


@dataclass(frozen=True, slots=True)
class InventoryCell:
    sector: Sector
    carrier: Carrier
    mwh: float
    t_co2: float
    factor_t_per_mwh: float
    contributions_mwh: tuple[float, ...]
    """Per firm of the district (registry order), 0 where a firm adds nothing."""


def inventory(district: DistrictConfig, year: int, sites: Mapping[str, SiteYear]) -> list[InventoryCell]:
    """The non-empty cells, sector by sector, carriers in the template's order."""
    inv = district.inventory
    grid_factor = inv.electricity_factor(year)
    per: dict[tuple[Sector, Carrier], list[float]] = {}
    ids = [s.id for s in district.sites]

    def add(sector: Sector, carrier: Carrier, index: int, mwh: float) -> None:
        per.setdefault((sector, carrier), [0.0] * len(ids))[index] += mwh

    for i, site_id in enumerate(ids):
        entry = inv.site(site_id)
        measured = sites.get(site_id)
        if measured is not None:
            add(entry.sector, Carrier.GRID_ELECTRICITY, i, measured.import_kwh / 1000.0)
            add(entry.sector, Carrier.LOCAL_PV, i, max(measured.pv_kwh - measured.export_kwh, 0.0) / 1000.0)
        for fuel in entry.fuels:
            if fuel.year == year:
                add(entry.sector, fuel.carrier, i, fuel.mwh)
    cells = []
    for sector in Sector:
        for carrier in Carrier:
            values = per.get((sector, carrier))
            if values is None or not any(values):
                continue
            factor = (grid_factor if carrier is Carrier.GRID_ELECTRICITY
                      else 0.0 if carrier is Carrier.LOCAL_PV else FUEL_T_PER_MWH[carrier])
            mwh = sum(values)
            cells.append(InventoryCell(sector=sector, carrier=carrier, mwh=mwh, t_co2=mwh * factor,
                                       factor_t_per_mwh=factor, contributions_mwh=tuple(values)))
    return cells
