"""The emission inventory of a year (Covenant of Mayors monitoring layout), JSON and CSV; public
figures through the public rule, cell by cell (docs/reports.md)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth.principal import Principal
from api.deps import PrincipalDep, StateDep
from api.energy import measured_kpis
from api.problems import ProblemError, problems
from api.public import viewer_figure
from api.state import ApiState
from nzd.clock import district_clock
from nzd.inventory import SiteYear, inventory

router = APIRouter(prefix="/api/v1", tags=["reports"])

YearQuery = Annotated[int, Query(ge=2000, le=2100, description="the calendar year (local time)",
                                 examples=[2026])]

_SECTOR_LABELS = {"industry_non_ets": "Manufacturing industries (non-ETS)",
                  "industry_ets": "Manufacturing industries (ETS)", "tertiary": "Tertiary buildings"}
_CARRIER_LABELS = {"grid_electricity": "Electricity (grid)", "local_pv": "Local renewable electricity (PV)",
                   "natural_gas": "Natural gas", "gas_oil": "Gas oil (diesel)", "lpg": "Liquid gas (LPG)"}


class InventoryRow(BaseModel):
    sector: str = Field(examples=["industry_non_ets"])
    sector_label: str = Field(examples=["Manufacturing industries (non-ETS)"])
    carrier: str = Field(examples=["grid_electricity"])
    carrier_label: str = Field(examples=["Electricity (grid)"])
    energy_mwh: float | None = Field(description="final energy use; null where the public rule withholds it",
                                     examples=[1840.2])
    factor_t_co2_per_mwh: float = Field(examples=[0.26])
    co2_t: float | None = Field(examples=[478.5])
    firms: int = Field(description="firms contributing to the cell", examples=[4])


class Inventory(BaseModel):
    year: int = Field(examples=[2026])
    partial_year: bool = Field(description="the year is not over: figures are the year so far")
    electricity_factor_t_co2_per_mwh: float = Field(examples=[0.26])
    rows: list[InventoryRow]
    total_energy_mwh: float | None
    total_co2_t: float | None


async def year_inventory(state: ApiState, principal: Principal, year: int) -> Inventory:
    tz = ZoneInfo(state.district.timezone)
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    now = datetime.fromtimestamp(district_clock().now_s(), tz)
    if start >= now:
        raise ProblemError(422, f"query.year: {year} has not begun")
    sites = list(state.district.sites)
    m = await measured_kpis(state.store, state.district, sites, start_ms=int(start.timestamp() * 1000),
                            end_ms=int(min(end, now).timestamp() * 1000), period="year",
                            raw_span_ms=int(state.settings.raw_span_h * 3_600_000), archive=state.hub.archive)
    s = m.kpis.sites

    def total(a: np.ndarray, i: int) -> float:
        return float(np.nansum(a[i]))

    measured = {site.id: SiteYear(import_kwh=total(s.import_kwh, i), export_kwh=total(s.export_kwh, i),
                                  pv_kwh=total(s.pv_kwh, i)) for i, site in enumerate(sites)}
    cells = inventory(state.district, year, measured)
    hidden = principal.hidden_indexes([site.id for site in sites])
    rows = []
    for c in cells:
        contributions = list(c.contributions_mwh)
        energy = viewer_figure(c.mwh, contributions, hidden=hidden)
        rows.append(InventoryRow(
            sector=c.sector.value, sector_label=_SECTOR_LABELS[c.sector.value], carrier=c.carrier.value,
            carrier_label=_CARRIER_LABELS[c.carrier.value],
            energy_mwh=None if energy is None else round(energy, 4),
            factor_t_co2_per_mwh=round(c.factor_t_per_mwh, 5),
            co2_t=None if energy is None else round(c.t_co2, 4), firms=sum(1 for v in contributions if v)))
    # A total is shown only when every cell it adds up is: a withheld cell would be the difference.
    shown = all(r.energy_mwh is not None for r in rows)
    return Inventory(year=year, partial_year=end > now,
                     electricity_factor_t_co2_per_mwh=state.district.inventory.electricity_factor(year),
                     rows=rows,
                     total_energy_mwh=round(sum(c.mwh for c in cells), 4) if shown else None,
                     total_co2_t=round(sum(c.t_co2 for c in cells), 4) if shown else None)


@router.get("/district/inventory", summary="Emission inventory of a year: energy and CO2 by sector and "
            "carrier (public)", responses=problems(422, 503))
async def get_inventory(state: StateDep, principal: PrincipalDep, year: YearQuery) -> Inventory:
    return await year_inventory(state, principal, year)


@router.get("/district/inventory.csv", summary="The emission inventory of a year as CSV (public)",
            responses={200: {"content": {"text/csv": {}}}, **problems(422, 503)})
async def get_inventory_csv(state: StateDep, principal: PrincipalDep, year: YearQuery) -> Response:
    inv = await year_inventory(state, principal, year)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["year", "sector", "energy_carrier", "final_energy_mwh", "emission_factor_t_co2_per_mwh",
                "co2_t", "firms"])
    for r in inv.rows:
        w.writerow([inv.year, r.sector_label, r.carrier_label, "" if r.energy_mwh is None else r.energy_mwh,
                    r.factor_t_co2_per_mwh, "" if r.co2_t is None else r.co2_t, r.firms])
    w.writerow([inv.year, "Total", "", "" if inv.total_energy_mwh is None else inv.total_energy_mwh, "",
                "" if inv.total_co2_t is None else inv.total_co2_t, ""])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="inventory-{year}.csv"'})
