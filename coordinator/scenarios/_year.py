"""A scenario's year as sizing inputs: loads, PV per kWp, prices and shared-energy rates per step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.model import DistrictModel, FloatArray, IntArray
from coordinator.scenarios._inputs import BatteryCandidates, Money, SizingInputs, SurfaceCandidates
from coordinator.scenarios._spec import BatterySpec, ScenarioSpec, SurfaceSpec
from coordinator.scenarios._weather import TypicalYear, pv_yield_kw_per_kwp, read_typical_year
from nzd.config import DistrictConfig, load_district
from nzd.series import load_profile_w

__all__ = ["ScenarioYear", "scenario_year"]

DAYS = 365


@dataclass(frozen=True, slots=True)
class ScenarioYear:
    """The full year at the scenario's step, and what the results need besides the LP's inputs."""

    inputs: SizingInputs
    times_ms: IntArray
    """Start of each step (UTC ms); the year is 365 days of whole steps from local 1 January."""
    config: DistrictConfig
    """The registry restricted to the scenario's sites."""
    steps_per_day: int


def _district(spec: ScenarioSpec) -> DistrictConfig:
    config = load_district(spec.district)
    if spec.sites is not None:
        known = {s.id for s in config.sites}
        unknown = sorted(set(spec.sites) - known)
        if unknown:
            raise ValueError(f"sites not in the registry: {', '.join(unknown)}")
        config = config.model_copy(update={"sites": [s for s in config.sites if s.id in set(spec.sites)]})
    ids = {s.id for s in config.sites}
    items: list[SurfaceSpec | BatterySpec] = [*spec.surfaces, *spec.batteries]
    for item in items:
        if item.site not in ids:
            raise ValueError(f"{item.id}: site {item.site!r} is not in the scenario's district")
    for battery in spec.batteries:
        for owner in battery.owners or {}:
            if owner not in ids:
                raise ValueError(f"{battery.id}: owner {owner!r} is not in the scenario's district")
    return config


def _measured(spec: ScenarioSpec, times_ms: IntArray, site_ids: tuple[str, ...]) -> dict[str, FloatArray]:
    """Per site column of the measured CSV: mean kW per step (the file's rows averaged into steps)."""
    if spec.loads.measured_csv is None:
        return {}
    import pandas as pd

    frame = pd.read_csv(spec.loads.measured_csv)
    if "time" not in frame.columns:
        raise ValueError(f"{spec.loads.measured_csv.name}: needs a 'time' column")
    t = pd.to_datetime(frame["time"], utc=True).astype("int64").to_numpy() // 1_000_000
    step_ms = int(times_ms[1] - times_ms[0])
    slot = (t - times_ms[0]) // step_ms
    ok = (slot >= 0) & (slot < times_ms.size)
    out: dict[str, FloatArray] = {}
    for site in site_ids:
        if site not in frame.columns:
            continue
        values = frame[site].to_numpy(np.float64)
        total = np.bincount(slot[ok], weights=np.nan_to_num(values[ok]), minlength=times_ms.size)
        count = np.bincount(slot[ok], weights=np.isfinite(values[ok]).astype(float), minlength=times_ms.size)
        if (count == 0).any():
            raise ValueError(
                f"measured loads of {site}: {int((count == 0).sum())} steps of the year have no value"
            )
        out[site] = total / count
    return out


def scenario_year(spec: ScenarioSpec) -> ScenarioYear:
    config = _district(spec)
    model = DistrictModel.from_config(config)
    tz = ZoneInfo(config.timezone)
    steps_per_day = 24 * 60 // spec.step_minutes
    start_ms = int(datetime(spec.year, 1, 1, tzinfo=tz).timestamp() * 1000)
    times_ms = start_ms + np.arange(DAYS * steps_per_day, dtype=np.int64) * spec.step_minutes * 60_000
    # Series are sampled at each step's midpoint: a step's mean power.
    mid_s = (times_ms / 1000.0) + spec.step_minutes * 30.0
    weather: TypicalYear | None = None
    if spec.weather.source != "synthetic" and spec.weather.file is not None:
        weather = read_typical_year(spec.weather.file, source=spec.weather.source)

    measured = _measured(spec, times_ms, model.site_ids)
    load = np.empty((model.n_sites, times_ms.size))
    annual = model.annual_load_kwh if model.annual_load_kwh is not None else np.zeros(model.n_sites)
    for i, site in enumerate(model.site_ids):
        if site in measured:
            load[i] = measured[site]
            continue
        profile = spec.loads.profile.get(site, model.load_profiles[i])
        kwh = spec.loads.annual_kwh.get(site, float(annual[i]))
        load[i] = load_profile_w(profile, mid_s, annual_kwh=kwh, tz=config.timezone) / 1000.0

    def pv_yield(tilt: float, azimuth: float) -> FloatArray:
        return pv_yield_kw_per_kwp(
            mid_s,
            lat=config.latitude,
            lon=config.longitude,
            tilt_deg=tilt,
            azimuth_deg=azimuth,
            weather=weather,
        )

    existing = np.zeros_like(load)
    for j in range(len(model.pv.ids)):
        existing[model.pv.site_index[j]] += model.pv.kwp[j] * pv_yield(
            float(model.pv.tilt_deg[j]), float(model.pv.azimuth_deg[j])
        )

    imp, exp, emission = model.prices(times_ms)
    step_per_hour = 60 // spec.step_minutes
    hour_of_step = np.arange(times_ms.size, dtype=np.int64) // step_per_hour
    hour_start_ms = times_ms[::step_per_hour]
    rates = model.shared_rates(hour_start_ms)
    if spec.incentive_eur_per_mwh is not None:
        rates = np.full_like(rates, spec.incentive_eur_per_mwh / 1000.0)

    index = {s: i for i, s in enumerate(model.site_ids)}
    sf = spec.surfaces
    surfaces = SurfaceCandidates(
        ids=tuple(s.id for s in sf),
        site_index=np.asarray([index[s.site] for s in sf], np.int64),
        max_kwp=np.asarray([s.limit_kwp for s in sf], np.float64),
        capex_eur_per_kwp=np.asarray([spec.pv_costs.eur_per_kwp.get(s.kind, 1000.0) for s in sf], np.float64),
        om_eur_per_kwp_year=np.full(len(sf), spec.pv_costs.om_eur_per_kwp_year),
        yield_kw_per_kwp=(
            np.stack([pv_yield(s.tilt_deg, s.azimuth_deg) for s in sf])
            if sf
            else np.zeros((0, times_ms.size))
        ),
        fixed_kwp=np.asarray([np.nan if s.fixed_kwp is None else s.fixed_kwp for s in sf], np.float64),
    )
    bs = spec.batteries
    owners = np.zeros((len(bs), model.n_sites))
    for k, b in enumerate(bs):
        for site, share in (b.owners or {b.site: 1.0}).items():
            owners[k, index[site]] = share

    def arr(values: list[float | None]) -> FloatArray:
        return np.asarray([np.nan if v is None else v for v in values], np.float64)

    batteries = BatteryCandidates(
        ids=tuple(b.id for b in bs),
        site_index=np.asarray([index[b.site] for b in bs], np.int64),
        owners=owners,
        capex_eur_per_kwh=arr([b.eur_per_kwh for b in bs]),
        capex_eur_per_kw=arr([b.eur_per_kw for b in bs]),
        om_eur_per_kwh_year=arr([b.om_eur_per_kwh_year for b in bs]),
        round_trip_efficiency=arr([b.round_trip_efficiency for b in bs]),
        cycle_life=arr([b.cycle_life for b in bs]),
        max_kwh=arr([b.max_kwh for b in bs]),
        max_kw=arr([b.max_kw for b in bs]),
        fixed_kwh=arr([b.fixed_kwh for b in bs]),
        fixed_kw=arr([b.fixed_kw for b in bs]),
    )
    inputs = SizingInputs(
        site_ids=model.site_ids,
        step_h=spec.step_minutes / 60.0,
        load_kw=load,
        existing_pv_kw=existing,
        import_eur_per_kwh=imp * spec.import_price_factor,
        export_eur_per_kwh=exp * spec.export_price_factor,
        emission_g_per_kwh=emission,
        import_limit_kw=model.import_limit_kw,
        export_limit_kw=model.export_limit_kw,
        configuration_of_site=model.site_configuration,
        hour_of_step=hour_of_step,
        shared_eur_per_kwh=np.asarray(rates, np.float64),
        weight_of_step=np.ones(times_ms.size),
        period_of_step=np.zeros(times_ms.size, np.int64),
        surfaces=surfaces,
        batteries=batteries,
        money=Money(
            discount_rate=spec.money.discount_rate,
            lifetime_years=spec.money.lifetime_years,
            battery_lifetime_years=spec.money.battery_lifetime_years,
        ),
    )
    return ScenarioYear(inputs=inputs, times_ms=times_ms, config=config, steps_per_day=steps_per_day)
