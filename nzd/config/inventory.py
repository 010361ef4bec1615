"""The registry's emission-inventory section (docs/reports.md): sectors, fuels and CO2 factors."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from nzd.identifiers import Identifier

__all__ = ["DEFAULT_ELECTRICITY_T_PER_MWH", "FUEL_T_PER_MWH", "Carrier", "FuelEntry", "InventoryConfig",
           "Sector", "SiteInventory"]

DEFAULT_ELECTRICITY_T_PER_MWH = 0.26
"""Location-based CO2 factor of electricity consumed in Italy when the registry names none for a
year. An assumption, not a confirmed figure: replace it with the factor of ISPRA's yearly report
"Fattori di emissione per la produzione ed il consumo di energia elettrica in Italia" for the
year (the example registry's tariff uses 260 g/kWh too)."""


class Sector(StrEnum):
    INDUSTRY_NON_ETS = "industry_non_ets"
    INDUSTRY_ETS = "industry_ets"
    TERTIARY = "tertiary"


class Carrier(StrEnum):
    GRID_ELECTRICITY = "grid_electricity"
    LOCAL_PV = "local_pv"
    NATURAL_GAS = "natural_gas"
    GAS_OIL = "gas_oil"
    LPG = "lpg"


FUEL_T_PER_MWH: dict[Carrier, float] = {
    # IPCC 2006 Guidelines for National Greenhouse Gas Inventories, vol. 2, table 2.3 (default
    # CO2 factors of stationary combustion): 56.1, 74.1 and 63.1 t CO2/TJ; 1 MWh = 3.6 GJ.
    Carrier.NATURAL_GAS: 56.1 * 0.0036,
    Carrier.GAS_OIL: 74.1 * 0.0036,
    Carrier.LPG: 63.1 * 0.0036,
}


class FuelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: Annotated[int, Field(ge=2000, le=2100)]
    carrier: Carrier
    mwh: Annotated[float, Field(ge=0)]
    """Final energy of the fuel burnt in the year (lower heating value)."""


class SiteInventory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sector: Sector = Sector.INDUSTRY_NON_ETS
    fuels: list[FuelEntry] = Field(default_factory=list)
    """Yearly figures of fuels no meter reports (gas bills, fuel deliveries)."""


class InventoryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    electricity_t_co2_per_mwh: dict[int, Annotated[float, Field(ge=0, le=2)]] = Field(default_factory=dict)
    """Year -> location-based factor of grid electricity; a year not named takes the nearest
    earlier one, else DEFAULT_ELECTRICITY_T_PER_MWH."""
    sites: dict[Identifier, SiteInventory] = Field(default_factory=dict)
    """Site -> sector and fuels; a site not named is non-ETS industry without fuels."""

    def electricity_factor(self, year: int) -> float:
        earlier = [y for y in self.electricity_t_co2_per_mwh if y <= year]
        return self.electricity_t_co2_per_mwh[max(earlier)] if earlier else DEFAULT_ELECTRICITY_T_PER_MWH

    def site(self, site_id: str) -> SiteInventory:
        return self.sites.get(site_id) or SiteInventory()

    def cross_check(self, site_ids: Collection[str]) -> Iterator[tuple[tuple[int | str, ...], str]]:
        """Problems as (path from the registry's root, message): the inventory sums over the
        registry's sites, so an entry under a misspelt id would silently drop that firm's fuels
        and sector."""
        for site_id, entry in self.sites.items():
            loc: tuple[int | str, ...] = ("inventory", "sites", site_id)
            if site_id not in site_ids:
                yield loc, f"unknown site {site_id!r} (the registry's sites: {', '.join(site_ids)})"
            seen: set[tuple[int, Carrier]] = set()
            for j, fuel in enumerate(entry.fuels):
                if fuel.carrier not in FUEL_T_PER_MWH:
                    yield (*loc, "fuels", j, "carrier"), (
                        f"{fuel.carrier.value} comes from the meters; a yearly figure is for a fuel "
                        f"({', '.join(c.value for c in FUEL_T_PER_MWH)})")
                elif (fuel.year, fuel.carrier) in seen:
                    yield (*loc, "fuels", j), (
                        f"a second {fuel.carrier.value} figure for {fuel.year}: give the year's total once")
                seen.add((fuel.year, fuel.carrier))
