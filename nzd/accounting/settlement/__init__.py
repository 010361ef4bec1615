"""Settlement: what the district's configurations earned by GSE's rules and what each member gets.

Pure functions over measured series; the rules are data in the district registry
(``DistrictConfig.settlement``, sites' ``primary_substation`` and ``business``, plants'
power, region, capital grant, commissioning date and owners). See docs/settlement.md.
"""

from nzd.accounting.settlement._rules import Plant, SettlementRules, settlement_rules
from nzd.accounting.settlement._shared import (
    attribute_to_plants,
    configuration_shared_kwh,
    plant_fed_kwh,
    round_to_cents,
)
from nzd.accounting.settlement._statement import (
    HourlyEnergy,
    Settlement,
    SettlementPeriod,
    hourly_energy,
    settle,
)
from nzd.accounting.settlement._tip import grant_factor, tip_eur_per_mwh

__all__ = [
    "HourlyEnergy",
    "Plant",
    "Settlement",
    "SettlementPeriod",
    "SettlementRules",
    "attribute_to_plants",
    "configuration_shared_kwh",
    "grant_factor",
    "hourly_energy",
    "plant_fed_kwh",
    "round_to_cents",
    "settle",
    "settlement_rules",
    "tip_eur_per_mwh",
]
