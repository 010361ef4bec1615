"""The district's settlement rules as arrays: configurations, plants, members, the statute."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from nzd.accounting.settlement._tip import tip_eur_per_mwh
from nzd.config.district import DistrictConfig
from nzd.config.settlement import SettlementConfig

__all__ = ["Plant", "SettlementRules", "settlement_rules"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Plant:
    """A production plant that may earn the TIP on the shared energy attributed to it."""

    site_index: int
    """Where it feeds in (its site's meter)."""
    plant_id: str
    power_kw: float
    owners: FloatArray
    """[site] shares of the plant's producer part (add up to 1)."""
    capital_grant_pct: float = 0.0
    region: str | None = None
    pv: bool = True
    tip_from_ms: int | None = None
    tip_until_ms: int | None = None
    eligible: bool = True
    """False: no premium at all (its shared energy earns only the valorisation)."""

    def tip_eur_per_mwh(self, zonal_price_eur_per_mwh: FloatArray, hour_start_ms: IntArray,
                        rules: SettlementConfig) -> FloatArray:
        """The plant's TIP in each hour: 0 outside its incentive period."""
        from nzd.config.settlement import Region

        tip = tip_eur_per_mwh(zonal_price_eur_per_mwh, power_kw=self.power_kw, rules=rules,
                              region=Region(self.region) if self.region else None, pv=self.pv,
                              capital_grant_pct=self.capital_grant_pct)
        paid = np.full(hour_start_ms.shape, self.eligible, np.bool_)
        if self.tip_from_ms is not None:
            paid &= hour_start_ms >= self.tip_from_ms
        if self.tip_until_ms is not None:
            paid &= hour_start_ms < self.tip_until_ms
        return np.where(paid, tip, 0.0)


@dataclass(frozen=True, slots=True)
class SettlementRules:
    site_ids: tuple[str, ...]
    configurations: tuple[str, ...]
    """Primary substations, one configuration each."""
    configuration_of_site: IntArray
    business: npt.NDArray[np.bool_]
    """[site] False for members that may receive the part above the 55 % rule."""
    plants: tuple[Plant, ...]
    timezone: str
    rules: SettlementConfig
    default_valorisation_eur_per_mwh: float
    shared_assets: FloatArray | None = None
    """[host site, owner site]: the part of a host's battery value (its net discharge at the host's
    import price) that belongs to each owner of a shared battery there; the host's diagonal entry is
    minus what it hands on. None: no shared battery."""

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    def local_hours(self, hour_start_ms: IntArray) -> IntArray:
        tz = ZoneInfo(self.timezone)
        return np.asarray([datetime.fromtimestamp(int(t) / 1000, tz).hour for t in hour_start_ms], np.int64)

    def planning_rates_eur_per_kwh(self) -> FloatArray:
        """[configuration, local hour] what a kWh shared earns, for the planner: the plants' TIP at the
        configured zonal price, weighted by their power (the planner cannot know who will feed in),
        plus the latest ARERA valorisation. Commissioning dates and the 55 % rule are left out."""
        pz = np.asarray(self.rules.zonal_price_profile())
        known = sorted(self.rules.valorisation_eur_per_mwh)
        valorisation = (self.rules.valorisation_for(known[-1], self.default_valorisation_eur_per_mwh)
                        if known else self.default_valorisation_eur_per_mwh)
        out = np.full((len(self.configurations), 24), valorisation)
        for c in range(len(self.configurations)):
            plants = [p for p in self.plants if self.configuration_of_site[p.site_index] == c]
            power = sum(p.power_kw for p in plants)
            if power > 0:
                out[c] += sum(p.power_kw * _tip_ignoring_dates(p, pz, self.rules) for p in plants) / power
        return np.asarray(out / 1000.0, dtype=np.float64)

    def valorisation_eur_per_mwh(self, hour_start_ms: IntArray) -> FloatArray:
        """ARERA's valorisation in each hour, by the hour's local calendar year."""
        tz = ZoneInfo(self.timezone)
        years = np.asarray([datetime.fromtimestamp(int(t) / 1000, tz).year for t in hour_start_ms], np.int64)
        out = np.empty(years.size)
        for year in np.unique(years):
            out[years == year] = self.rules.valorisation_for(int(year), self.default_valorisation_eur_per_mwh)
        return out


def _tip_ignoring_dates(plant: Plant, pz: FloatArray, rules: SettlementConfig) -> FloatArray:
    undated = replace(plant, tip_from_ms=None, tip_until_ms=None)
    return undated.tip_eur_per_mwh(pz, np.zeros(pz.size, np.int64), rules)


def _day_ms(day: date, timezone: str, *, years: int = 0) -> int:
    try:
        shifted = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        shifted = day.replace(year=day.year + years, day=28)
    midnight = datetime(shifted.year, shifted.month, shifted.day, tzinfo=ZoneInfo(timezone))
    return round(midnight.timestamp() * 1000)


def settlement_rules(config: DistrictConfig) -> SettlementRules:
    """The registry's sites, primary substations, PV plants and statute as arrays."""
    site_ids = tuple(s.id for s in config.sites)
    index = {sid: i for i, sid in enumerate(site_ids)}
    configurations = tuple(dict.fromkeys(s.primary_substation for s in config.sites))
    plants: list[Plant] = []
    for i, site in enumerate(config.sites):
        for pv in site.pv:
            owners = np.zeros(len(site_ids))
            if pv.owners is None:
                owners[i] = 1.0
            else:
                for member, share in pv.owners.items():
                    owners[index[member]] = share
            start = None if pv.commissioned is None else _day_ms(pv.commissioned, config.timezone)
            until = None if pv.commissioned is None else _day_ms(
                pv.commissioned, config.timezone, years=config.settlement.tip_years)
            plants.append(Plant(site_index=i, plant_id=pv.id, power_kw=pv.power_kw or pv.kwp, owners=owners,
                                capital_grant_pct=pv.capital_grant_pct,
                                region=None if pv.region is None else str(pv.region),
                                tip_from_ms=start, tip_until_ms=until, eligible=pv.tip_eligible))
    shared = np.zeros((len(site_ids), len(site_ids)))
    for i, site in enumerate(config.sites):
        capacity = sum(b.capacity_kwh for b in site.batteries)
        for bat in site.batteries:
            if bat.shares is None:
                continue
            part = bat.capacity_kwh / capacity  # the site's battery meter measures all its batteries
            for member, share in bat.shares.items():
                if index[member] != i:
                    shared[i, index[member]] += part * share
                    shared[i, i] -= part * share
    return SettlementRules(
        shared_assets=shared if shared.any() else None,
        site_ids=site_ids, configurations=configurations,
        configuration_of_site=np.asarray([configurations.index(s.primary_substation) for s in config.sites],
                                         np.int64),
        business=np.asarray([s.business for s in config.sites], np.bool_), plants=tuple(plants),
        timezone=config.timezone, rules=config.settlement,
        default_valorisation_eur_per_mwh=config.tariff.valorisation_eur_per_mwh,
    )
