"""The district registry: sites and their assets, tariffs, water model.

The coordinator plans over it; the API serves it; KPIs are computed per site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nzd.config.inventory import InventoryConfig
from nzd.config.settlement import Region, SettlementConfig
from nzd.identifiers import Identifier

__all__ = [
    "BatteryConfig",
    "DistrictConfig",
    "FlexibleLoadConfig",
    "MeterConfig",
    "MeterRole",
    "PvConfig",
    "SiteConfig",
    "TankConfig",
    "TariffConfig",
    "WaterConfig",
    "WaterMeterConfig",
    "WaterMeterRole",
    "WaterSeverity",
    "WaterSource",
]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Percent = Annotated[float, Field(ge=0, le=100)]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(value: str) -> str:
    if not _HHMM.fullmatch(value):
        raise ValueError("must be a time of day HH:MM")
    return value


def _hhmm_end(value: str) -> str:
    """A window's end: a time of day, or 24:00 for the end of the day."""
    if value != "24:00" and not _HHMM.fullmatch(value):
        raise ValueError("must be a time of day HH:MM, or 24:00 for the end of the day")
    return value


PriceProfile = float | Annotated[list[float], Field(min_length=24, max_length=24)]
"""A constant, or 24 hourly values (local time)."""


class TariffConfig(_Strict):
    import_eur_per_kwh: PriceProfile = 0.25
    export_eur_per_kwh: PriceProfile = 0.10
    incentive_eur_per_mwh: NonNegative = 110.0
    """Incentive (TIP) per MWh of shared energy, 60-120 EUR/MWh for Italian CERs."""
    valorisation_eur_per_mwh: NonNegative = 11.0
    """ARERA valorisation of shared energy."""
    emission_g_per_kwh: PriceProfile = 260.0
    """Location-based grid emission factor."""
    peak_eur_per_kw: NonNegative = 0.0
    """Optional charge per kW of the highest import in the horizon."""


class MeterRole(StrEnum):
    GRID = "grid"
    """The site's connection point: positive = import."""
    PV = "pv"
    BATTERY = "battery"
    LOAD = "load"


class MeterConfig(_Strict):
    device: Identifier
    role: MeterRole
    gateway: Identifier | None = None
    rated_power_kw: Positive | None = None
    """The most power the meter can see: a counter increase beyond it over the elapsed time is
    flagged as excess (docs/coordinator.md). Unset: the meter's counters are not capped."""
    rollover_wh: Positive | None = None
    """The energy registers' declared rollover (e.g. 429496729.6 for a 32-bit register in 0.1 Wh);
    unset: a large drop is a reset."""


class PvConfig(_Strict):
    id: Identifier
    kwp: Positive
    device: Identifier | None = None
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 25.0
    azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0
    power_kw: Positive | None = None
    """The plant's power for its TIP class (docs/settlement.md); None: its kWp."""
    region: Region | None = None
    """Overrides the district's settlement region."""
    capital_grant_pct: Percent = 0.0
    """Share of the investment paid by a capital grant: reduces the TIP and the 55 % threshold."""
    commissioned: date | None = None
    """The TIP is paid from this day for ``settlement.tip_years``; None: always."""
    tip_eligible: bool = True
    """False for a plant that earns no premium (e.g. commissioned before 16 December 2021): its
    energy still counts for shared energy and the valorisation."""
    owners: dict[Identifier, Fraction] | None = None
    """A plant owned by several members: site id -> share; None: owned by its site."""


class BatteryConfig(_Strict):
    id: Identifier
    capacity_kwh: Positive
    charge_kw: Positive
    discharge_kw: Positive
    charge_efficiency: Fraction = 0.95
    discharge_efficiency: Fraction = 0.95
    soc_min_pct: Percent = 10.0
    soc_max_pct: Percent = 95.0
    soc_initial_pct: Percent = 50.0
    wear_eur_per_kwh: NonNegative = 0.02
    """Degradation cost per kWh discharged."""
    device: Identifier | None = None
    asset: Identifier | None = None
    """The gateway asset that receives the power setpoint."""
    shares: dict[Identifier, Fraction] | None = None
    """Shared battery: site id -> share of capacity; None means owned by its site."""


class FlexibleLoadConfig(_Strict):
    id: Identifier
    energy_kwh: Positive
    power_kw: Positive
    earliest_start: str = "00:00"
    deadline: str = "23:59"
    interruptible: bool = False
    min_run_minutes: NonNegative = 15.0
    power_levels_kw: list[Positive] = Field(default_factory=list)
    """Other powers a non-interruptible batch may run at instead of ``power_kw`` (the run's
    length follows from its energy); the plan picks one per run. ``power_kw`` stays the
    default: the safe mode and a batch out of our control run at it."""
    asset: Identifier | None = None

    _t1 = field_validator("earliest_start")(_hhmm)
    _t2 = field_validator("deadline")(_hhmm_end)


class TankConfig(_Strict):
    """A recycled-water tank filled by a pump: a flexible load with a water state."""

    id: Identifier
    volume_m3: Positive
    level_min_pct: Percent = 20.0
    level_max_pct: Percent = 95.0
    level_initial_pct: Percent = 50.0
    pump_max_m3h: Positive
    pump_kw_per_m3h: Positive
    demand_m3_per_day: NonNegative = 0.0
    device: Identifier | None = None
    asset: Identifier | None = None


class WaterSource(StrEnum):
    PUBLIC = "public"
    WELL = "well"
    RECYCLED = "recycled"


class WaterMeterRole(StrEnum):
    INTAKE = "intake"
    DISCHARGE = "discharge"
    PROCESS = "process"
    SUPPLY = "supply"
    """Water the site supplies to others: the reuse plant's metered output into the recycled
    network (``source: recycled``)."""


class WaterMeterConfig(_Strict):
    device: Identifier
    role: WaterMeterRole
    source: WaterSource | None = None
    """Required for intake meters."""
    quiet_start: str = "22:00"
    quiet_end: str = "05:00"
    """The meter's quiet window for minimum-night-flow leak detection (local time)."""
    leak_margin_m3h: NonNegative | None = None
    """Night flow above the baseline by more than this raises a leak alert; unset: the default."""
    continuous_flow_hours: Positive | None = None
    """Alarm when the flow has not dropped to zero for this many hours; unset: no such alarm
    (for meters that always see some flow, e.g. cooling water)."""
    legit_night_use_m3h: NonNegative = 0.0
    """Legitimate night use (cooling, sanitation, boiler top-up): the part of the minimum night
    flow that is not leakage (UKWIR's "legitimate night use")."""

    _t1 = field_validator("quiet_start")(_hhmm)
    _t2 = field_validator("quiet_end")(_hhmm)


class WaterSeverity(StrEnum):
    NORMAL = "normal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WaterConfig(_Strict):
    meters: list[WaterMeterConfig] = Field(default_factory=list)
    production_unit: str | None = None
    """Unit of production output for water intensity, e.g. kg or m of fabric."""
    production_device: Identifier | None = None
    allowance_m3_per_day: dict[WaterSeverity, NonNegative] = Field(default_factory=dict)
    """Daily intake allowance per district water-severity level (per local calendar day)."""
    allowance_sources: list[WaterSource] = Field(
        default_factory=lambda: [WaterSource.PUBLIC, WaterSource.WELL])
    """The intake the allowance counts: fresh water only by default, so reuse is not penalised."""
    night_shifts: list[date] = Field(default_factory=list)
    """Declared night shifts: the local dates on which a night with production starts (more can
    be declared through the API). They are kept out of the normal night baseline."""
    hour_day_factor_h: Annotated[float, Field(gt=0, le=24)] = 24.0
    """Night leakage (m3/h) times this is the leakage per day: 24 h where the pressure is the
    same day and night (a firm's private network behind a constant-pressure supply)."""
    price_eur_per_m3: dict[WaterSource, NonNegative] = Field(default_factory=dict)
    """What a m3 of each source costs the firm; ranks leaks by cost (unset: no cost shown)."""
    declared_use_m3_per_day: NonNegative = 0.0
    """Water that legitimately leaves neither through the discharge meter (evaporation, water
    in the product, irrigation), for the firm's water balance."""
    declared_use_fraction: Annotated[float, Field(ge=0, le=1)] = 0.0
    """The same as a share of the intake (e.g. evaporation of a cooling tower)."""
    balance_threshold_pct: Annotated[float, Field(gt=0, le=100)] = 10.0
    """Alert when a day's unexplained part of the balance is above this share of the intake."""


class SiteConfig(_Strict):
    id: Identifier
    name: str
    activity: str = ""
    grid_import_limit_kw: Positive = 1000.0
    grid_export_limit_kw: Positive = 1000.0
    meters: list[MeterConfig] = Field(default_factory=list)
    pv: list[PvConfig] = Field(default_factory=list)
    batteries: list[BatteryConfig] = Field(default_factory=list)
    flexible_loads: list[FlexibleLoadConfig] = Field(default_factory=list)
    tanks: list[TankConfig] = Field(default_factory=list)
    water: WaterConfig | None = None
    tariff: TariffConfig | None = None
    """Overrides the district tariff for this site."""
    load_profile: str = "g1"
    """BDEW standard load profile of the site's inflexible consumption, for offline planning."""
    annual_load_kwh: NonNegative | None = None
    """Annual inflexible consumption for offline planning; None: 30 % of the import limit on average."""
    primary_substation: Identifier = "default"
    """The primary substation the site is connected under: members under the same one form a
    configuration, and energy is shared only within a configuration."""
    business: bool = True
    """False for members that are not businesses (households, the municipality, non-profits):
    they may receive the part of the premium above the 55 % rule."""


def _time_zone(value: str) -> str:
    """An IANA time zone this machine knows (e.g. Europe/Rome), refused here rather than at planning."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: give an IANA name such as 'Europe/Rome'") from None
    return value


class DistrictConfig(_Strict):
    district: Identifier
    name: str = ""
    timezone: str = "Europe/Rome"
    _tz = field_validator("timezone")(_time_zone)
    latitude: Annotated[float, Field(ge=-90, le=90)] = 43.88
    longitude: Annotated[float, Field(ge=-180, le=180)] = 11.10
    step_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    horizon_hours: Annotated[int, Field(ge=1, le=168)] = 24
    tariff: TariffConfig = Field(default_factory=TariffConfig)
    water_severity: WaterSeverity = WaterSeverity.NORMAL
    recycled_loss_threshold_pct: Annotated[float, Field(gt=0, le=100)] = 2.0
    """Alert when a day's losses in the recycled-water network are above this share of the
    reuse plant's metered output (docs/water.md)."""
    counter_reset_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    """A counter drop of at least this fraction of its value is a reset (meter replaced or
    cleared); a smaller drop is noise and the reading is rejected."""
    settlement: SettlementConfig = Field(default_factory=SettlementConfig)
    inventory: InventoryConfig = Field(default_factory=InventoryConfig)
    """Sectors, yearly fuels and CO2 factors of the emission inventory (docs/reports.md)."""
    sites: Annotated[list[SiteConfig], Field(min_length=1)]

    def site(self, site_id: str) -> SiteConfig:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def devices_of(self, site_id: str) -> frozenset[str]:
        """Every device the registry names for the site (meters, PV, batteries, tanks, water).

        The live tables of the API and the coordinator keep these only: a gateway inventing
        device names cannot make them grow.
        """
        site = self.site(site_id)
        found = {m.device for m in site.meters}
        found |= {p.device for p in site.pv if p.device}
        found |= {b.device for b in site.batteries if b.device}
        found |= {t.device for t in site.tanks if t.device}
        if site.water is not None:
            found |= {m.device for m in site.water.meters}
            if site.water.production_device:
                found.add(site.water.production_device)
        return frozenset(found)

    def tariff_for(self, site_id: str) -> TariffConfig:
        return self.site(site_id).tariff or self.tariff

    def cross_check(self) -> Iterator[tuple[tuple[int | str, ...], str]]:
        site_ids = [s.id for s in self.sites]
        yield from self.inventory.cross_check(site_ids)
        seen: set[str] = set()
        for i, site in enumerate(self.sites):
            if site.id in seen:
                yield ("sites", i, "id"), f"duplicate site id {site.id!r}"
            seen.add(site.id)
            asset_ids: set[str] = set()
            for section in ("pv", "batteries", "flexible_loads", "tanks"):
                for j, asset in enumerate(getattr(site, section)):
                    if asset.id in asset_ids:
                        yield ("sites", i, section, j, "id"), f"duplicate asset id {asset.id!r}"
                    asset_ids.add(asset.id)
            for j, bat in enumerate(site.batteries):
                loc = ("sites", i, "batteries", j)
                if bat.soc_min_pct >= bat.soc_max_pct:
                    yield (*loc, "soc_min_pct"), "must be below soc_max_pct"
                if not bat.soc_min_pct <= bat.soc_initial_pct <= bat.soc_max_pct:
                    yield (*loc, "soc_initial_pct"), "must lie within soc_min_pct..soc_max_pct"
                if bat.shares is not None:
                    for member in bat.shares:
                        if member not in site_ids:
                            yield (*loc, "shares", member), f"unknown site {member!r}"
                    total = sum(bat.shares.values())
                    if abs(total - 1.0) > 1e-6:
                        yield (*loc, "shares"), f"shares must add up to 1 (they add up to {total:g})"
            for j, plant in enumerate(site.pv):
                if plant.owners is not None:
                    where = ("sites", i, "pv", j, "owners")
                    for member in plant.owners:
                        if member not in site_ids:
                            yield (*where, member), f"unknown site {member!r}"
                    total = sum(plant.owners.values())
                    if abs(total - 1.0) > 1e-6:
                        yield where, f"owners' shares must add up to 1 (they add up to {total:g})"
            for j, load in enumerate(site.flexible_loads):
                loc = ("sites", i, "flexible_loads", j)
                if load.deadline <= load.earliest_start:
                    yield (*loc, "deadline"), "must be after earliest_start"
                if load.power_levels_kw and load.interruptible:
                    yield (*loc, "power_levels_kw"), (
                        "only a non-interruptible batch picks one of several levels (an interruptible "
                        "load may run at any power up to power_kw)"
                    )
                hours = _minutes(load.deadline) - _minutes(load.earliest_start)
                if load.energy_kwh > load.power_kw * hours / 60 + 1e-9:
                    yield (*loc, "energy_kwh"), (
                        "cannot be delivered at power_kw between earliest_start and deadline"
                    )
                for k, level in enumerate(load.power_levels_kw):
                    if load.energy_kwh > level * hours / 60 + 1e-9:
                        yield (*loc, "power_levels_kw", k), (
                            f"at {level:g} kW energy_kwh cannot be delivered between earliest_start "
                            "and deadline"
                        )
            for j, tank in enumerate(site.tanks):
                loc = ("sites", i, "tanks", j)
                if tank.level_min_pct >= tank.level_max_pct:
                    yield (*loc, "level_min_pct"), "must be below level_max_pct"
            if site.water is not None:
                for j, meter in enumerate(site.water.meters):
                    if meter.role in (WaterMeterRole.INTAKE, WaterMeterRole.SUPPLY) and meter.source is None:
                        which = "a supply" if meter.role is WaterMeterRole.SUPPLY else "an intake"
                        yield ("sites", i, "water", "meters", j, "source"), (
                            f"{which} meter needs a source (public, well or recycled)"
                        )
                if site.water.production_device is not None and site.water.production_unit is None:
                    yield ("sites", i, "water", "production_unit"), (
                        "production_device counts output, so the unit it counts in (kg, m...) is needed"
                    )


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
