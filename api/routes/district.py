"""The district and its sites, from the registry."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, SiteDep, StateDep
from api.problems import problems
from api.public import viewer_total
from nzd.config import SiteConfig

router = APIRouter(prefix="/api/v1", tags=["district"])


class SiteSummary(BaseModel):
    id: str = Field(examples=["tintoria-rossi"])
    name: str = Field(examples=["Tintoria Rossi"])
    activity: str = Field(examples=["textile dyeing with flexible batches"])
    pv_kwp: float = Field(examples=[150.0])
    battery_kwh: float = Field(examples=[0.0])
    has_water: bool = Field(examples=[True])
    grid_import_limit_kw: float = Field(examples=[400.0])


class District(BaseModel):
    district: str = Field(examples=["prato-est"])
    name: str = Field(examples=["Distretto tessile Prato Est"])
    timezone: str = Field(examples=["Europe/Rome"])
    site_count: int = Field(examples=[4])
    pv_kwp: float | None = Field(description="district total; null for the public (and for a site "
                                             "manager, on the other firms) when it would show a single "
                                             "firm's plant", examples=[630.0])
    battery_kwh: float | None = Field(description="district total; null for the public (and for a site "
                                                  "manager, on the other firms) when it would show a single "
                                                  "firm's battery", examples=[400.0])
    water_severity: str = Field(examples=["normal"])
    sites: list[SiteSummary] = Field(description="the sites the caller may see; empty for the public")


def summary(site: SiteConfig) -> SiteSummary:
    return SiteSummary(id=site.id, name=site.name, activity=site.activity,
                       pv_kwp=sum(p.kwp for p in site.pv),
                       battery_kwh=sum(b.capacity_kwh for b in site.batteries),
                       has_water=site.water is not None, grid_import_limit_kw=site.grid_import_limit_kw)


@router.get("/district", summary="The district, with the sites the caller may see")
async def get_district(state: StateDep, principal: PrincipalDep) -> District:
    d = state.district
    visible = [s for s in d.sites if principal.may_see_site(s.id)]
    pv = [sum(p.kwp for p in s.pv) for s in d.sites]
    battery = [sum(b.capacity_kwh for b in s.batteries) for s in d.sites]
    hidden = principal.hidden_indexes([s.id for s in d.sites])
    return District(
        district=d.district, name=d.name, timezone=d.timezone, site_count=len(d.sites),
        pv_kwp=viewer_total(pv, hidden=hidden), battery_kwh=viewer_total(battery, hidden=hidden),
        water_severity=d.water_severity.value,
        sites=[summary(s) for s in visible] if not principal.district_only else [],
    )


@router.get("/sites", summary="The sites the caller may see (none for the public)")
async def list_sites(state: StateDep, principal: PrincipalDep) -> list[SiteSummary]:
    return [summary(s) for s in state.district.sites if principal.may_see_site(s.id)]


@router.get("/sites/{site}", summary="One site's registry entry: meters, PV, batteries, loads, tanks, water",
            responses=problems(403, 404))
async def get_site(site: SiteDep) -> SiteConfig:
    return site
