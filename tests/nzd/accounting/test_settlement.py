"""Settlement by hand: TIP classes, pro rata attribution, configurations, the 55 % rule, cents."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from nzd.accounting.settlement import (
    HourlyEnergy,
    settle,
    settlement_rules,
    tip_eur_per_mwh,
)
from nzd.config import DistrictConfig, SettlementConfig

H0 = 1_781_474_400_000  # 2026-06-15 00:00 Europe/Rome
JUNE = 1_780_264_800_000  # 2026-06-01 00:00 Europe/Rome
HOUR = 3_600_000


def _district(sites: list[dict[str, object]], **settlement: object) -> DistrictConfig:
    return DistrictConfig.model_validate({
        "district": "d", "sites": sites,
        "tariff": {"import_eur_per_kwh": 0.25, "export_eur_per_kwh": 0.10, "valorisation_eur_per_mwh": 10.0},
        "settlement": {"zonal_price_eur_per_mwh": 90.0, **settlement}})


def _energy(config: DistrictConfig, imp: list[list[float]], exp: list[list[float]],
            start_ms: int = H0) -> HourlyEnergy:
    i, e = np.asarray(imp, float), np.asarray(exp, float)
    return HourlyEnergy(site_ids=tuple(s.id for s in config.sites),
                        hour_start_ms=start_ms + np.arange(i.shape[1], dtype=np.int64) * HOUR,
                        import_kwh=i, export_kwh=e, pv_kwh=e.copy(), energy_cost_eur=0.25 * i - 0.10 * e,
                        co2_kg=0.26 * i)


def test_tip_for_a_small_plant_at_a_low_zonal_price_is_capped_then_gets_the_regional_bonus() -> None:
    rules = SettlementConfig()
    # 80 + (180 - 90) = 170, capped at 120.
    assert tip_eur_per_mwh([90.0], power_kw=150, rules=rules, pv=False)[0] == pytest.approx(120.0)
    # PV in Tuscany (central region): + 4.
    assert tip_eur_per_mwh([90.0], power_kw=150, rules=rules, region="centre")[0] == pytest.approx(124.0)
    assert tip_eur_per_mwh([90.0], power_kw=150, rules=rules, region="north")[0] == pytest.approx(130.0)
    # 200-600 kW: 70 + 90 capped at 110; above 600 kW: 60 + 90 capped at 100; Pz = 150: 60 + 30 = 90.
    assert tip_eur_per_mwh([90.0, 150.0], power_kw=400, rules=rules, pv=False).tolist() == [110.0, 100.0]
    assert tip_eur_per_mwh([90.0, 150.0], power_kw=1000, rules=rules, pv=False).tolist() == [100.0, 90.0]
    # Pz above 180: the base only.
    assert tip_eur_per_mwh([250.0], power_kw=150, rules=rules, pv=False)[0] == pytest.approx(80.0)
    # A capital grant of 40 % of the investment halves it (F = 0.5), 20 % takes a quarter off.
    assert tip_eur_per_mwh([90.0], power_kw=150, rules=rules, capital_grant_pct=40)[0] == pytest.approx(62.0)
    assert tip_eur_per_mwh([90.0], power_kw=150, rules=rules, capital_grant_pct=20)[0] == pytest.approx(93.0)


def test_two_plants_of_different_classes_share_pro_rata_to_what_they_fed_in() -> None:
    config = _district([
        {"id": "a", "name": "A", "pv": [{"id": "pv", "kwp": 150}]},
        {"id": "b", "name": "B", "pv": [{"id": "pv", "kwp": 400}]},
        {"id": "c", "name": "C"},
    ])
    # One hour: A feeds in 30 kWh, B 10 kWh, C draws 20 kWh: 20 kWh shared, A 15 and B 5.
    s = settle(_energy(config, [[0], [0], [20]], [[30], [10], [0]]), settlement_rules(config), period="day")
    assert s.shared_kwh[0, 0] == pytest.approx(20.0)
    assert s.shared_fed_kwh[:, 0].tolist() == pytest.approx([15.0, 5.0, 0.0])
    # A: 150 kW PV in the centre at Pz 90: 124 EUR/MWh; B: 400 kW: 110 + 4 = 114 EUR/MWh.
    premium = 15 * 0.124 + 5 * 0.114
    assert s.premium_eur[0, 0] == pytest.approx(premium)
    # Shared 15 of A's 30 kWh (50 %) and 5 of B's 10 kWh (50 %): within the 55 % rule.
    assert s.above_rule_eur[0, 0] == pytest.approx(0.0)
    valorisation = 20 * 0.010
    assert s.configuration_incentive_eur[0, 0] == pytest.approx(round(premium + valorisation, 2))
    pot = premium + valorisation
    # Producers 50 % by each plant's premium, consumers 40 % by energy drawn in shared hours, fund 10 %.
    half = 0.5 * pot / premium
    assert s.producer_eur[:, 0] == pytest.approx([half * 1.86, half * 0.57, 0.0])
    assert s.consumer_eur[:, 0] == pytest.approx([0.0, 0.0, 0.4 * pot])
    assert s.fund_eur[0, 0] == pytest.approx(round(0.1 * pot, 2), abs=0.011)


def test_two_configurations_with_surplus_in_one_and_demand_in_the_other_share_nothing() -> None:
    config = _district([
        {"id": "a", "name": "A", "primary_substation": "cp-nord", "pv": [{"id": "pv", "kwp": 150}]},
        {"id": "c", "name": "C", "primary_substation": "cp-sud"},
    ])
    energy = _energy(config, [[0, 0], [20, 20]], [[30, 30], [0, 0]])
    s = settle(energy, settlement_rules(config), period="day")
    assert s.configurations == ("cp-nord", "cp-sud")
    assert s.shared_kwh.sum() == 0.0
    assert s.configuration_incentive_eur.sum() == 0.0
    assert s.incentive_eur.sum() == 0.0
    # The same flows under one substation share 40 kWh.
    one = _district([{"id": "a", "name": "A", "pv": [{"id": "pv", "kwp": 150}]}, {"id": "c", "name": "C"}])
    s1 = settle(_energy(one, [[0, 0], [20, 20]], [[30, 30], [0, 0]]), settlement_rules(one), period="day")
    assert s1.shared_kwh.sum() == pytest.approx(40.0)


def test_the_55_percent_rule_sends_the_premium_above_it_to_the_social_part() -> None:
    sites: list[dict[str, object]] = [
        {"id": "a", "name": "A", "pv": [{"id": "pv", "kwp": 150}]},
        {"id": "c", "name": "C"},
    ]
    config = _district(sites)
    # A feeds in 100 kWh, C draws 100 kWh: all of A's energy is shared, 55 % is allowed.
    s = settle(_energy(config, [[0], [100]], [[100], [0]]), settlement_rules(config), period="day")
    premium = 100 * 0.124
    assert s.premium_eur[0, 0] == pytest.approx(premium)
    assert s.above_rule_eur[0, 0] == pytest.approx(45 * 0.124)
    # No member that is not a business: the excess goes to social purposes.
    assert s.social_fund_eur[0, 0] == pytest.approx(round(45 * 0.124, 2))
    pot = 55 * 0.124 + 100 * 0.010
    assert s.producer_eur[0, 0] == pytest.approx(0.5 * pot)
    assert s.consumer_eur[1, 0] == pytest.approx(0.4 * pot)
    assert s.social_eur.sum() == 0.0

    # With a capital grant the threshold is 45 %; with a non-business member (the municipality),
    # the part above it goes to that member, by what it drew in hours with shared energy.
    sites[0]["pv"] = [{"id": "pv", "kwp": 150, "capital_grant_pct": 40}]
    sites.append({"id": "comune", "name": "Comune", "business": False})
    config = _district(sites)
    s = settle(_energy(config, [[0], [60], [40]], [[100], [0], [0]]), settlement_rules(config), period="day")
    tip = 124 * 0.5
    assert s.above_rule_eur[0, 0] == pytest.approx(55 * tip / 1000)
    assert s.social_eur[:, 0] == pytest.approx([0.0, 0.0, 55 * tip / 1000])
    assert s.social_fund_eur[0, 0] == 0.0


def test_monthly_statements_of_all_firms_add_up_to_the_configuration_incentive_to_the_cent() -> None:
    config = _district([
        {"id": "a", "name": "A", "pv": [{"id": "pv", "kwp": 150, "owners": {"a": 0.7, "b": 0.3}}]},
        {"id": "b", "name": "B", "pv": [{"id": "pv", "kwp": 700}]},
        {"id": "c", "name": "C"},
        {"id": "d", "name": "D", "primary_substation": "cp-2", "pv": [{"id": "pv", "kwp": 300}]},
        {"id": "e", "name": "E", "primary_substation": "cp-2", "business": False},
    ], valorisation_eur_per_mwh={2026: 10.57})
    rng = np.random.default_rng(5)
    hours = 24 * 30  # June 2026
    sun = np.clip(np.sin((np.arange(hours) % 24 - 6) / 12 * np.pi), 0, None)
    exp = np.stack([rng.uniform(0, 40, hours) * sun for _ in range(5)])
    exp[[2, 4]] = 0.0
    imp = np.stack([rng.uniform(0, 30, hours) * (1 - sun) for _ in range(5)])
    imp[[2, 4]] = rng.uniform(5, 60, (2, hours))
    energy = _energy(config, imp.tolist(), exp.tolist(), JUNE)
    pz = rng.uniform(40, 220, hours)
    s = settle(energy, settlement_rules(config), zonal_price_eur_per_mwh=pz, period="month")
    assert s.period_start_ms.size == 1
    for c in range(2):
        members = s.configuration_of_site == c
        parts = [Decimal(f"{v:.2f}") for v in s.incentive_eur[members, 0]]
        parts += [Decimal(f"{s.fund_eur[c, 0]:.2f}"), Decimal(f"{s.social_fund_eur[c, 0]:.2f}")]
        assert sum(parts) == Decimal(f"{s.configuration_incentive_eur[c, 0]:.2f}")
        assert s.configuration_incentive_eur[c, 0] > 10
        # Cents only.
        assert all(abs(v * 100 - round(v * 100)) < 1e-6 for v in s.incentive_eur[members, 0])
    assert s.valorisation_eur.sum() == pytest.approx(s.shared_kwh.sum() * 0.01057)
    # Owners' shares: B owns 30 % of A's plant, so its shared energy includes 30 % of the plant's.
    assert s.shared_fed_kwh[:, 0].sum() == pytest.approx(s.shared_kwh.sum())
    # The days of the month add up to the month (before rounding).
    days = settle(energy, settlement_rules(config), zonal_price_eur_per_mwh=pz, period="day")
    assert days.period_start_ms.size == 30
    assert days.premium_eur.sum() == pytest.approx(s.premium_eur.sum())
    assert (days.producer_eur + days.consumer_eur + days.social_eur).sum() == pytest.approx(
        (s.producer_eur + s.consumer_eur + s.social_eur).sum())
    year = settle(energy, settlement_rules(config), zonal_price_eur_per_mwh=pz, period="year")
    assert year.period_start_ms.size == 1
    assert year.premium_eur.sum() == pytest.approx(s.premium_eur.sum())


def test_a_plant_earns_no_premium_before_its_commissioning() -> None:
    config = _district([
        {"id": "a", "name": "A", "pv": [{"id": "pv", "kwp": 150, "commissioned": "2026-06-16"}]},
        {"id": "c", "name": "C"},
    ])
    s = settle(_energy(config, [[0] * 48, [10] * 48], [[10] * 48, [0] * 48]), settlement_rules(config),
               period="day")
    assert s.premium_eur[0].tolist() == pytest.approx([0.0, 240 * 0.124])
    assert s.valorisation_eur[0].tolist() == pytest.approx([240 * 0.01, 240 * 0.01])
    # A plant outside the premium (built before 16 December 2021) still shares: valorisation only.
    old = _district([{"id": "a", "name": "A", "pv": [{"id": "pv", "kwp": 150, "tip_eligible": False}]},
                     {"id": "c", "name": "C"}])
    energy = _energy(old, [[0] * 24, [10] * 24], [[10] * 24, [0] * 24])
    s = settle(energy, settlement_rules(old), period="day")
    assert s.premium_eur.sum() == 0.0 and s.valorisation_eur.sum() == pytest.approx(240 * 0.01)


def test_bad_input_is_refused_with_a_clear_error() -> None:
    config = _district([{"id": "a", "name": "A"}])
    energy = _energy(config, [[1.0]], [[0.0]])
    with pytest.raises(ValueError, match="zonal prices for 2 hours"):
        settle(energy, settlement_rules(config), zonal_price_eur_per_mwh=np.asarray([1.0, 2.0]))
    with pytest.raises(ValueError, match="must be 100"):
        _district([{"id": "a", "name": "A"}],
                  sharing={"producers_pct": 50, "consumers_pct": 40, "fund_pct": 20})


def test_a_shared_battery_passes_its_value_on_to_its_owners_by_their_shares() -> None:
    config = _district([
        {"id": "host", "name": "Host", "batteries": [{
            "id": "community", "capacity_kwh": 400, "charge_kw": 200, "discharge_kw": 200,
            "shares": {"host": 0.1, "a": 0.9}}]},
        {"id": "a", "name": "A"},
    ])
    energy = _energy(config, [[0.0, 10.0], [5.0, 5.0]], [[0.0, 0.0], [0.0, 0.0]])
    # Hour 1: the battery discharged 40 kWh into the host's load (10 EUR saved at 0.25);
    # hour 2: it charged 20 kWh (5 EUR on the host's bill).
    energy = replace(energy, battery_value_eur=np.asarray([[10.0, -5.0], [0.0, 0.0]]))
    s = settle(energy, settlement_rules(config), period="day")
    # A owns 90 %: the host hands it 90 % of the 5 EUR the battery saved on the host's bill.
    assert s.shared_assets_eur[:, 0].tolist() == pytest.approx([4.5, -4.5])
    assert s.net_cost_eur[:, 0].tolist() == pytest.approx([2.5 + 4.5, 2.5 - 4.5])
    assert s.shared_assets_eur.sum() == pytest.approx(0.0)
