"""The settlement rules as data: how GSE pays a CER's shared energy and how the statute splits it.

Sources and the assumptions made where they could not be confirmed: docs/settlement.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Region", "SettlementConfig", "SharingRule", "TipClass"]

NonNegative = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
Hourly = Annotated[list[NonNegative], Field(min_length=24, max_length=24)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Region(StrEnum):
    """Where a PV plant stands: DM 414/2023 adds a correction for lower solar yield in the north."""

    NORTH = "north"
    CENTRE = "centre"
    """Lazio, Marche, Toscana, Umbria, Abruzzo."""
    SOUTH = "south"


class TipClass(_Strict):
    """TIP = min(cap, base + max(0, reference - Pz)) EUR/MWh for plants of one power class."""

    up_to_kw: float | None
    """Upper bound of the class (inclusive); None for the last class."""
    base_eur_per_mwh: NonNegative
    cap_eur_per_mwh: NonNegative


def _default_classes() -> list[TipClass]:
    return [TipClass(up_to_kw=200.0, base_eur_per_mwh=80.0, cap_eur_per_mwh=120.0),
            TipClass(up_to_kw=600.0, base_eur_per_mwh=70.0, cap_eur_per_mwh=110.0),
            TipClass(up_to_kw=None, base_eur_per_mwh=60.0, cap_eur_per_mwh=100.0)]


class SharingRule(_Strict):
    """The statute: how the part of the incentive that may reach the firms is split.

    Percentages of that part (premium within the 55 % rule plus the ARERA valorisation);
    they add up to 100. The part above the rule goes to non-business members (by what they
    drew in hours with shared energy) or, when there are none, to social purposes.
    """

    producers_pct: Percent = 50.0
    """To the plants' owners, in proportion to the premium each plant earned."""
    consumers_pct: Percent = 40.0
    """To the members, in proportion to the energy each drew in the hours with shared energy."""
    fund_pct: Percent = 10.0
    """To the community fund (running costs, reserves)."""

    @model_validator(mode="after")
    def _adds_up(self) -> SharingRule:
        total = self.producers_pct + self.consumers_pct + self.fund_pct
        if abs(total - 100.0) > 1e-6:
            raise ValueError(
                f"producers_pct + consumers_pct + fund_pct must be 100 (they add up to {total:g})")
        return self


class SettlementConfig(_Strict):
    region: Region = Region.CENTRE
    """Where the district's PV plants stand (a plant may override it)."""
    zonal_price_eur_per_mwh: NonNegative | Hourly = 110.0
    """Zonal price Pz (a constant, or 24 values by local hour) used where no hourly price is known,
    and by the planner."""
    tip_reference_eur_per_mwh: NonNegative = 180.0
    tip_classes: Annotated[list[TipClass], Field(min_length=1)] = Field(default_factory=_default_classes)
    region_bonus_eur_per_mwh: dict[Region, NonNegative] = Field(
        default_factory=lambda: {Region.NORTH: 10.0, Region.CENTRE: 4.0, Region.SOUTH: 0.0})
    """Added to a PV plant's TIP for its region."""
    grant_reduction_at_max: Annotated[float, Field(ge=0, le=1)] = 0.5
    """F: a plant with a capital grant gets TIP x (1 - F), F growing linearly with the grant's
    share of the investment from 0 (no grant) to this value at ``grant_max_pct``."""
    grant_max_pct: Annotated[float, Field(gt=0, le=100)] = 40.0
    tip_years: Annotated[int, Field(ge=1)] = 20
    """The TIP is paid for this many years from the plant's commissioning."""
    valorisation_eur_per_mwh: dict[int, NonNegative] = Field(default_factory=dict)
    """ARERA's valorisation per calendar year; a year not listed takes the latest earlier year's,
    else the district tariff's ``valorisation_eur_per_mwh``."""
    social_threshold_pct: Percent = 55.0
    """The premium on shared energy above this share of a plant's energy fed in goes to
    non-business members or social purposes."""
    social_threshold_grant_pct: Percent = 45.0
    """The same for plants with a capital grant."""
    sharing: SharingRule = Field(default_factory=SharingRule)

    @model_validator(mode="after")
    def _classes_ordered(self) -> SettlementConfig:
        bounds = [c.up_to_kw for c in self.tip_classes]
        if bounds[-1] is not None or any(b is None for b in bounds[:-1]):
            raise ValueError("tip_classes: only the last class is open-ended (up_to_kw: null)")
        finite = [b for b in bounds if b is not None]
        if finite != sorted(finite):
            raise ValueError("tip_classes must be in increasing up_to_kw")
        return self

    def zonal_price_profile(self) -> list[float]:
        """24 values by local hour."""
        p = self.zonal_price_eur_per_mwh
        return [float(p)] * 24 if isinstance(p, int | float) else [float(v) for v in p]

    def valorisation_for(self, year: int, default: float) -> float:
        known = [y for y in self.valorisation_eur_per_mwh if y <= year]
        return self.valorisation_eur_per_mwh[max(known)] if known else default
