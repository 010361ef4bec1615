"""Settlement per period: what each configuration earned and what each member gets out of it.

Per hour h and configuration c (members under one primary substation):
shared = min(fed in, drawn); each plant's part of it is pro rata to what it fed in, and
earns the plant's TIP (its class, Pz of the hour, region, grant); the valorisation is
shared x ARERA's EUR/MWh of the year. Per plant and local calendar month, the premium on
shared energy above 55 % (45 % with a capital grant) of the plant's energy fed in goes
to the non-business members (by what they drew in hours with shared energy) or, without
any, to social purposes. The rest plus the valorisation is split by the statute:
producers (by the premium each plant earned, then by its owners' shares), consumers (by
energy drawn in hours with shared energy), the community fund. Amounts are rounded to
cents per configuration and period so that they add up exactly to its incentive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from nzd.accounting.kpis import EnergySeries, TariffSeries
from nzd.accounting.settlement._rules import SettlementRules
from nzd.accounting.settlement._shared import (
    attribute_to_plants,
    configuration_shared_kwh,
    plant_fed_kwh,
    round_to_cents,
)
from nzd.accounting.water import Period, period_edges

__all__ = ["HourlyEnergy", "Settlement", "SettlementPeriod", "hourly_energy", "settle"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SettlementPeriod = Literal["day", "month", "year"]
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class HourlyEnergy:
    """Measured energy per site and clock hour (kWh) and its money at the site's tariff."""

    site_ids: tuple[str, ...]
    hour_start_ms: IntArray
    import_kwh: FloatArray
    export_kwh: FloatArray
    pv_kwh: FloatArray
    energy_cost_eur: FloatArray
    """import x import price - export x export price, [site, hour]."""
    co2_kg: FloatArray
    battery_value_eur: FloatArray | None = None
    """[site, hour] the site's battery discharge - charge at its import price: what its batteries
    saved on its bill (shared batteries pass this on to their owners)."""


def hourly_energy(series: EnergySeries, tariff: TariffSeries) -> HourlyEnergy:
    """Sum a series on any grid that divides the hour into clock hours (NaN counts 0)."""
    hours, index = np.unique(series.times_ms // HOUR_MS, return_inverse=True)

    def per_hour(values: FloatArray) -> FloatArray:
        out = np.zeros((values.shape[0], hours.size))
        np.add.at(out.T, index, np.nan_to_num(values).T)
        return out

    imp, exp = np.nan_to_num(series.import_kwh), np.nan_to_num(series.export_kwh)
    battery = None if series.battery_net_kwh is None else per_hour(
        np.nan_to_num(series.battery_net_kwh) * tariff.import_eur_per_kwh)
    return HourlyEnergy(battery_value_eur=battery,
        site_ids=series.site_ids, hour_start_ms=(hours * HOUR_MS).astype(np.int64), import_kwh=per_hour(imp),
        export_kwh=per_hour(exp), pv_kwh=per_hour(series.pv_kwh),
        energy_cost_eur=per_hour(imp * tariff.import_eur_per_kwh - exp * tariff.export_eur_per_kwh),
        co2_kg=per_hour(imp * tariff.emission_g_per_kwh / 1000.0))


@dataclass(frozen=True, slots=True)
class Settlement:
    period: str
    period_start_ms: IntArray
    period_end_ms: IntArray
    site_ids: tuple[str, ...]
    configurations: tuple[str, ...]
    configuration_of_site: IntArray
    # [site, period]
    drawn_kwh: FloatArray
    fed_kwh: FloatArray
    pv_kwh: FloatArray
    self_consumed_kwh: FloatArray
    shared_fed_kwh: FloatArray
    """Shared energy attributed to the plants the member owns (by its shares)."""
    drawn_in_shared_hours_kwh: FloatArray
    producer_eur: FloatArray
    consumer_eur: FloatArray
    social_eur: FloatArray
    """Non-business members only: their part of the premium above the 55 % rule."""
    incentive_eur: FloatArray
    """producer + consumer + social, rounded so that the configuration's parts add up to the cent."""
    energy_cost_eur: FloatArray
    shared_assets_eur: FloatArray
    """What the member pays (negative: receives) for its shares of shared batteries hosted
    elsewhere, and the host for those it hosts: their value on the host's bill, split by shares."""
    net_cost_eur: FloatArray
    """Energy cost + shared assets - incentive received."""
    co2_kg: FloatArray
    # [configuration, period]
    shared_kwh: FloatArray
    premium_eur: FloatArray
    valorisation_eur: FloatArray
    configuration_incentive_eur: FloatArray
    """Premium + valorisation, rounded to cents."""
    above_rule_eur: FloatArray
    """The premium above the 55 % rule (to non-business members or social purposes)."""
    fund_eur: FloatArray
    social_fund_eur: FloatArray
    """The part above the rule that no non-business member could take: social purposes."""

    def site(self, site_id: str) -> int:
        try:
            return self.site_ids.index(site_id)
        except ValueError:
            raise KeyError(f"unknown site {site_id!r}") from None


def _edges(start_ms: int, end_ms: int, period: SettlementPeriod, timezone: str) -> IntArray:
    if period == "year":
        months = period_edges(start_ms=start_ms, end_ms=end_ms, period=Period.MONTH, timezone=timezone)
        from datetime import datetime
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(timezone)
        keep = [i for i, e in enumerate(months)
                if i == 0 or datetime.fromtimestamp(int(e) / 1000, tz).month == 1]
        year_end = [int(e) for e in months if datetime.fromtimestamp(int(e) / 1000, tz).month == 1
                    and e >= end_ms]
        edges = [int(months[i]) for i in keep]
        if edges[-1] < end_ms:
            edges.append(year_end[0] if year_end else int(months[-1]))
        return np.asarray(edges, np.int64)
    return period_edges(start_ms=start_ms, end_ms=end_ms, period=Period(period), timezone=timezone)


def _month_index(hour_start_ms: IntArray, timezone: str) -> IntArray:
    edges = period_edges(start_ms=int(hour_start_ms[0]), end_ms=int(hour_start_ms[-1]) + HOUR_MS,
                         period=Period.MONTH, timezone=timezone)
    return (np.searchsorted(edges, hour_start_ms, side="right") - 1).astype(np.int64)


def _sum_by(values: FloatArray, index: IntArray, n: int) -> FloatArray:
    out = np.zeros((values.shape[0], n))
    np.add.at(out.T, index, values.T)
    return out


def _split(amount: float, weights: FloatArray) -> FloatArray | None:
    total = float(weights.sum())
    return None if total <= 1e-12 else amount * weights / total


def settle(energy: HourlyEnergy, rules: SettlementRules, *, zonal_price_eur_per_mwh: FloatArray | None = None,
           period: SettlementPeriod = "month") -> Settlement:
    """Statements per member and configuration for each local day, month or year in ``energy``.

    ``zonal_price_eur_per_mwh`` per hour of ``energy`` (NaN or None: the configured constant).
    """
    if energy.site_ids != rules.site_ids:
        raise ValueError("the energy series and the rules must list the same sites in the same order")
    hours = energy.hour_start_ms
    if hours.size == 0:
        raise ValueError("no hours to settle")
    cfg = rules.configuration_of_site
    n_cfg = len(rules.configurations)
    pz = np.asarray(rules.rules.zonal_price_profile())[rules.local_hours(hours)]
    if zonal_price_eur_per_mwh is not None:
        given = np.asarray(zonal_price_eur_per_mwh, dtype=np.float64)
        if given.shape != hours.shape:
            raise ValueError(f"zonal prices for {given.size} hours, the energy has {hours.size}")
        pz = np.where(np.isnan(given), pz, given)

    fed, _, shared = configuration_shared_kwh(energy.import_kwh, energy.export_kwh,
                                              configuration_of_site=cfg, configurations=n_cfg)
    plants = rules.plants
    plant_cfg = np.asarray([cfg[p.site_index] for p in plants], np.int64)
    p_fed = plant_fed_kwh(energy.export_kwh, plants)
    p_shared = attribute_to_plants(shared, fed, p_fed, plant_cfg)
    tip = (np.stack([p.tip_eur_per_mwh(pz, hours, rules.rules) for p in plants]) if plants
           else np.zeros((0, hours.size)))
    premium = p_shared * tip / 1000.0
    # The 55 % rule per plant and local month: the premium on shared energy above the
    # threshold share of the plant's energy fed in does not reach the firms.
    month = _month_index(hours, rules.timezone)
    n_months = int(month.max()) + 1
    fed_m, shared_m = _sum_by(p_fed, month, n_months), _sum_by(p_shared, month, n_months)
    threshold = np.asarray([(rules.rules.social_threshold_grant_pct if p.capital_grant_pct > 0
                             else rules.rules.social_threshold_pct) / 100.0 for p in plants])
    allowed = threshold[:, None] * fed_m
    business_frac = np.divide(np.minimum(allowed, shared_m), shared_m, out=np.ones_like(shared_m),
                              where=shared_m > 1e-12)
    premium_business = premium * business_frac[:, month]
    valorisation = shared * rules.valorisation_eur_per_mwh(hours)[None, :] / 1000.0
    drawn_shared_h = np.nan_to_num(energy.import_kwh) * (shared[cfg] > 1e-12)

    edges = _edges(int(hours[0]), int(hours[-1]) + HOUR_MS, period, rules.timezone)
    n = edges.size - 1
    idx = (np.searchsorted(edges, hours, side="right") - 1).astype(np.int64)
    S = rules.n_sites

    def per_period(values: FloatArray) -> FloatArray:
        return _sum_by(values, idx, n)

    prem_p, biz_p, shr_p = per_period(premium), per_period(premium_business), per_period(p_shared)
    val_c, shared_c = per_period(valorisation), per_period(shared)
    drawn_shared = per_period(drawn_shared_h)
    owners = np.stack([p.owners for p in plants]) if plants else np.zeros((0, S))
    producer = np.zeros((S, n))
    consumer = np.zeros((S, n))
    social = np.zeros((S, n))
    incentive = np.zeros((S, n))
    prem_c = np.zeros((n_cfg, n))
    above_c = np.zeros((n_cfg, n))
    total_c = np.zeros((n_cfg, n))
    fund_c = np.zeros((n_cfg, n))
    social_fund_c = np.zeros((n_cfg, n))
    share = rules.rules.sharing
    for c in range(n_cfg):
        in_c = plant_cfg == c
        members = cfg == c
        non_business = members & ~rules.business
        for k in range(n):
            premium_ck = float(prem_p[in_c, k].sum())
            business_ck = float(biz_p[in_c, k].sum())
            pot = business_ck + float(val_c[c, k])
            above = premium_ck - business_ck
            total = premium_ck + float(val_c[c, k])
            fund = pot * share.fund_pct / 100.0
            prod = np.zeros(S)
            split = _split(pot * share.producers_pct / 100.0, biz_p[in_c, k])
            if split is None:
                fund += pot * share.producers_pct / 100.0
            else:
                prod = owners[in_c].T @ split
            cons = np.zeros(S)
            split = _split(pot * share.consumers_pct / 100.0, drawn_shared[:, k] * members)
            if split is None:
                fund += pot * share.consumers_pct / 100.0
            else:
                cons = split
            soc = np.zeros(S)
            social_fund = 0.0
            split = _split(above, drawn_shared[:, k] * non_business)
            if split is None:
                social_fund = above
            else:
                soc = split
            # Round each recipient's part to cents; together they make the configuration's incentive.
            cents = round_to_cents(np.concatenate([prod + cons + soc, [fund, social_fund]]), total)
            producer[:, k] += prod
            consumer[:, k] += cons
            social[:, k] += soc
            incentive[:, k] += cents[:S]
            fund_c[c, k], social_fund_c[c, k] = cents[S], cents[S + 1]
            prem_c[c, k], above_c[c, k] = premium_ck, above
            total_c[c, k] = round(total * 100.0) / 100.0

    drawn_s, fed_s = per_period(energy.import_kwh), per_period(energy.export_kwh)
    pv_s = per_period(energy.pv_kwh)
    cost = per_period(energy.energy_cost_eur)
    assets = np.zeros((S, n))
    if rules.shared_assets is not None and energy.battery_value_eur is not None:
        assets = -(rules.shared_assets.T @ per_period(energy.battery_value_eur))
    return Settlement(
        period=period, period_start_ms=edges[:-1], period_end_ms=edges[1:], site_ids=rules.site_ids,
        configurations=rules.configurations, configuration_of_site=cfg,
        drawn_kwh=drawn_s, fed_kwh=fed_s, pv_kwh=pv_s, self_consumed_kwh=np.clip(pv_s - fed_s, 0.0, None),
        shared_fed_kwh=owners.T @ shr_p if plants else np.zeros((S, n)),
        drawn_in_shared_hours_kwh=drawn_shared,
        producer_eur=producer, consumer_eur=consumer, social_eur=social, incentive_eur=incentive,
        energy_cost_eur=cost, shared_assets_eur=assets, net_cost_eur=cost + assets - incentive,
        co2_kg=per_period(energy.co2_kg),
        shared_kwh=shared_c, premium_eur=prem_c, valorisation_eur=val_c, configuration_incentive_eur=total_c,
        above_rule_eur=above_c, fund_eur=fund_c, social_fund_eur=social_fund_c,
    )
