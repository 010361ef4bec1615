"""The scenario file (YAML, validated by pydantic like every config; JSON Schema from the model)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nzd.config._yaml import load_model

__all__ = ["BatterySpec", "ScenarioSpec", "SurfaceKind", "SurfaceSpec", "load_scenario", "scenario_schema"]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SurfaceKind(StrEnum):
    ROOF = "roof"
    CARPORT = "carport"
    GROUND = "ground"


class SurfaceSpec(_Strict):
    id: str = Field(min_length=1)
    site: str = Field(description="The firm that owns the surface (and the plant on it).")
    kind: SurfaceKind = SurfaceKind.ROOF
    area_m2: Positive
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0
    kwp_per_m2: Positive = 0.2
    """Modules' power per m² of usable surface (about 0.2 for modern modules, less with row spacing)."""
    max_kwp: NonNegative | None = None
    """Default: the area times ``kwp_per_m2``."""
    fixed_kwp: NonNegative | None = None
    """Evaluate this size instead of optimising it."""

    @property
    def limit_kwp(self) -> float:
        by_area = self.area_m2 * self.kwp_per_m2
        return by_area if self.max_kwp is None else min(self.max_kwp, by_area)


class BatterySpec(_Strict):
    id: str = Field(min_length=1)
    site: str = Field(description="Where it is connected (whose meter its power flows through).")
    owners: dict[str, Positive] | None = None
    """Shared battery: each firm's share of its cost and value (add up to 1). None: the site's own."""
    eur_per_kwh: NonNegative = 450.0
    eur_per_kw: NonNegative = 150.0
    om_eur_per_kwh_year: NonNegative = 5.0
    round_trip_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.9
    cycle_life: Positive = 6000.0
    max_kwh: NonNegative = 2000.0
    max_kw: NonNegative = 1000.0
    fixed_kwh: NonNegative | None = None
    fixed_kw: NonNegative | None = None

    @model_validator(mode="after")
    def _shares(self) -> BatterySpec:
        if self.owners is not None and abs(sum(self.owners.values()) - 1.0) > 1e-6:
            raise ValueError("owners' shares must add up to 1")
        return self


class PvCosts(_Strict):
    eur_per_kwp: dict[SurfaceKind, NonNegative] = Field(
        default_factory=lambda: {
            SurfaceKind.ROOF: 950.0,
            SurfaceKind.CARPORT: 1400.0,
            SurfaceKind.GROUND: 800.0,
        }
    )
    om_eur_per_kwp_year: NonNegative = 15.0


class MoneySpec(_Strict):
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = 0.05
    lifetime_years: Annotated[int, Field(ge=1, le=60)] = 20
    battery_lifetime_years: Annotated[int, Field(ge=1, le=60)] = 10
    degradation_pct_per_year: Annotated[float, Field(ge=0, lt=5)] = 0.5
    """PV output lost per year, for the lifetime cash flows."""


class WeatherSpec(_Strict):
    source: Literal["synthetic", "epw", "pvgis"] = "synthetic"
    """synthetic: the project's year (clear sky at the site's latitude, a measured year's clouds);
    epw / pvgis: a typical-year file read with pvlib."""
    file: Path | None = None

    @model_validator(mode="after")
    def _file(self) -> WeatherSpec:
        if self.source != "synthetic" and self.file is None:
            raise ValueError(f"weather source {self.source} needs a file")
        return self


class LoadSpec(_Strict):
    measured_csv: Path | None = None
    """A year of measured power: a ``time`` column (ISO, with offset) and one column per site in kW.
    Sites without a column follow their standard profile."""
    annual_kwh: dict[str, NonNegative] = Field(default_factory=dict)
    """Standard profile scaled to this yearly consumption (default: the registry's figure)."""
    profile: dict[str, str] = Field(default_factory=dict)
    """BDEW profile per site (default: the registry's)."""


class OptionsSpec(_Strict):
    co2_cap_t: NonNegative | None = None
    renewable_share_min: Annotated[float, Field(ge=0, le=1)] | None = None
    budget_eur: NonNegative | None = None
    firm_budget_eur: dict[str, NonNegative] = Field(default_factory=dict)


class ScenarioSpec(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    district: Path
    """The district registry (relative to the scenario file)."""
    sites: list[str] | None = None
    """A subset of the registry's sites; None: all."""
    year: Annotated[int, Field(ge=2000, le=2100)] = 2025
    step_minutes: Literal[15, 30, 60] = 15
    representative_days: Annotated[int, Field(ge=2, le=365)] = 12
    weather: WeatherSpec = WeatherSpec()
    loads: LoadSpec = LoadSpec()
    surfaces: list[SurfaceSpec] = Field(default_factory=list)
    batteries: list[BatterySpec] = Field(default_factory=list)
    pv_costs: PvCosts = PvCosts()
    money: MoneySpec = MoneySpec()
    import_price_factor: Positive = 1.0
    """Sensitivity: the registry's import prices times this."""
    export_price_factor: NonNegative = 1.0
    incentive_eur_per_mwh: NonNegative | None = None
    """Shared energy's value (TIP + valorisation) everywhere; None: the registry's settlement rules."""
    options: OptionsSpec = OptionsSpec()
    co2_sweep_pct: list[Annotated[float, Field(ge=0, lt=100)]] = Field(
        default_factory=lambda: [0.0, 25.0, 50.0]
    )
    """Cost-CO2 curve: the sizing again with CO2 capped this many % below the cost optimum's."""

    @model_validator(mode="after")
    def _unique(self) -> ScenarioSpec:
        for kind, items in (("surface", self.surfaces), ("battery", self.batteries)):
            ids = [i.id for i in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"{kind} ids must be unique")
        return self


def load_scenario(path: str | Path) -> ScenarioSpec:
    """Read and validate a scenario file; relative paths in it are resolved against its folder."""
    p = Path(path)
    spec = load_model(p, ScenarioSpec)
    return resolve_paths(spec, p.parent)


def resolve_paths(spec: ScenarioSpec, base: Path) -> ScenarioSpec:
    def rel(x: Path | None) -> Path | None:
        return None if x is None or x.is_absolute() else base / x

    update = {"district": rel(spec.district) or spec.district}
    weather = spec.weather.model_copy(update={"file": rel(spec.weather.file) or spec.weather.file})
    loads = spec.loads.model_copy(
        update={"measured_csv": rel(spec.loads.measured_csv) or spec.loads.measured_csv}
    )
    return spec.model_copy(update={**update, "weather": weather, "loads": loads})


def scenario_schema() -> dict[str, object]:
    return ScenarioSpec.model_json_schema()
