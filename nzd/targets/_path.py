"""A target as data: a baseline, a target, the path between, and a year's progress.

A target says where a district figure stood in a baseline year and where it should be by a
target year; the path between is linear (the value expected in each year in between). A year's
progress compares the measured value with the path's value for that year: the gap is in the
target's own unit (measured minus expected) and it is "on track" while it stays within a
tolerance of the whole planned change, "ahead" or "behind" beyond it, depending on whether the
metric should fall (CO2, water intake) or rise (renewable share, reuse).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["METRICS", "ON_TRACK_TOLERANCE", "Metric", "MetricInfo", "Progress", "Status", "Target",
           "path_value", "progress"]

ON_TRACK_TOLERANCE = 0.05
"""A year is on track while its gap stays within this share of the target's whole planned change."""


class Metric(StrEnum):
    CO2_ELECTRICITY = "co2_electricity_t"
    RENEWABLE_SHARE = "renewable_share"
    SELF_SUFFICIENCY = "self_sufficiency"
    WATER_INTAKE = "water_intake_m3"
    WATER_REUSE_RATIO = "water_reuse_ratio"
    WATER_INTENSITY = "water_intensity_m3_per_unit"


@dataclass(frozen=True, slots=True)
class MetricInfo:
    label: str
    unit: str
    lower_is_better: bool
    ratio: bool
    """A share 0..1 (the path may not leave it)."""


METRICS: dict[Metric, MetricInfo] = {
    Metric.CO2_ELECTRICITY: MetricInfo("CO2 from electricity", "t CO2", True, False),
    Metric.RENEWABLE_SHARE: MetricInfo("Renewable share (local PV over consumption)", "share", False, True),
    Metric.SELF_SUFFICIENCY: MetricInfo("Self-sufficiency", "share", False, True),
    Metric.WATER_INTAKE: MetricInfo("Water intake", "m3", True, False),
    Metric.WATER_REUSE_RATIO: MetricInfo("Water reuse ratio", "share", False, True),
    Metric.WATER_INTENSITY: MetricInfo("Water intensity", "m3 per unit of output", True, False),
}

Year = Annotated[int, Field(ge=2000, le=2100)]


class Target(BaseModel):
    """One target as set (the body of PUT /district/targets/{metric})."""

    model_config = ConfigDict(extra="forbid")
    baseline_year: Year = Field(examples=[2025])
    baseline_value: float = Field(ge=0, examples=[410.0])
    target_year: Year = Field(examples=[2030])
    target_value: float = Field(ge=0, examples=[246.0])
    path: Literal["linear"] = Field("linear", description="how the value moves between the two years")
    note: str = Field("", max_length=500, description="why, agreed with whom", examples=["-40 % by 2030"])

    @model_validator(mode="after")
    def _years(self) -> Target:
        if self.target_year <= self.baseline_year:
            raise ValueError("target_year must be after baseline_year")
        return self


class Status(StrEnum):
    AHEAD = "ahead"
    ON_TRACK = "on_track"
    BEHIND = "behind"


@dataclass(frozen=True, slots=True)
class Progress:
    year: int
    expected: float
    """The path's value for the year."""
    actual: float
    gap: float
    """actual - expected, in the target's unit."""
    status: Status


def path_value(target: Target, year: float) -> float:
    """The path's value in ``year`` (held at the baseline before it, at the target after it)."""
    span = target.target_year - target.baseline_year
    f = min(max((year - target.baseline_year) / span, 0.0), 1.0)
    return target.baseline_value + f * (target.target_value - target.baseline_value)


def progress(metric: Metric, target: Target, *, year: int, actual: float) -> Progress:
    expected = path_value(target, year)
    gap = actual - expected
    tolerance = ON_TRACK_TOLERANCE * abs(target.target_value - target.baseline_value)
    better = -gap if METRICS[metric].lower_is_better else gap
    status = Status.ON_TRACK if abs(gap) <= tolerance else Status.AHEAD if better > 0 else Status.BEHIND
    return Progress(year=year, expected=expected, actual=actual, gap=gap, status=status)
