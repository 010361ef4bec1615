"""A week of simulated history written at start-up, so that the first plan's forecasts see a shape.

Per firm, every 15 simulated minutes before the start: the grid meter's active power (load net of
PV) and energy counters, the PV inverter's power and energy, the battery at rest. Values come from
the same series as the simulator's models (nzd.series); counters are counted back from the values
the simulator starts with, so that the seeded and the live readings join without a jump.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gateway.simulator.config import SimDeviceConfig, load_simulator_config
from gateway.simulator.device import SimulatedDevice
from gateway.simulator.model import Site
from nzd import series
from nzd.messages import DeviceKind
from nzd.store.base import Reading, TelemetryStore

__all__ = ["seed_history"]

_STEP_S = 900
_JOIN_WH = 50.0
"""Seeded counters end this far below the simulator's first value: a register's rounding (float32
kWh) must not make the live counter look lower than the seeded one (a reset)."""


def _energy_before(power_w: np.ndarray, end_wh: float) -> np.ndarray:
    """Counter values at each step's start, given the power over each step and the value at the end."""
    step_wh = np.clip(power_w, 0.0, None) * _STEP_S / 3600.0
    after = np.cumsum(step_wh[::-1])[::-1]  # energy from each step's start to the end
    return np.clip(end_wh - _JOIN_WH - after, 0.0, None)


def _device_readings(cfg: SimDeviceConfig, dev: SimulatedDevice, times_s: np.ndarray, site: Site,
                     ) -> dict[str, np.ndarray]:
    load = (series.load_profile_w(cfg.load.profile, times_s, annual_kwh=cfg.load.annual_kwh, tz=site.tz)
            if cfg.load else np.zeros_like(times_s))
    pv = (series.pv_power_w(cfg.pv.kwp, times_s, lat=site.lat, lon=site.lon, tilt_deg=cfg.pv.tilt_deg,
                            azimuth_deg=cfg.pv.azimuth_deg, try_region=cfg.pv.try_region)
          if cfg.pv else np.zeros_like(times_s))
    c = dev.model.counters
    if dev.model.kind is DeviceKind.PV_INVERTER:
        energy = _energy_before(pv, c["pv_energy_wh"])
        return {"pv_power_w": pv, "active_power_w": -pv, "pv_energy_wh": energy, "energy_export_wh": energy}
    if cfg.battery:
        rest = np.zeros_like(times_s)
        return {"battery_power_w": rest, "active_power_w": rest,
                "battery_soc_pct": np.full_like(times_s, cfg.battery.soc_pct),
                "battery_charge_energy_wh": rest + max(0.0, c["battery_charge_energy_wh"] - _JOIN_WH),
                "battery_discharge_energy_wh": rest + max(0.0, c["battery_discharge_energy_wh"] - _JOIN_WH)}
    if cfg.load or cfg.pv:
        net = load - pv
        return {"active_power_w": net,
                "energy_import_wh": _energy_before(net, c["energy_import_wh"]),
                "energy_export_wh": _energy_before(-net, c["energy_export_wh"])}
    return {}


async def seed_history(store: TelemetryStore, *, simulator_file: Path, district: str, sites: list[str],
                       end_s: float, days: int = 7) -> int:
    """Write ``days`` of readings before ``end_s`` for the simulator's devices; returns how many.

    A simulator device is named ``<site>-<device>``, as the demo's scenario names them."""
    config = load_simulator_config(simulator_file)
    sim = config.simulator
    site = Site(lat=sim.lat, lon=sim.lon, tz=sim.tz)
    first = (int(end_s) // _STEP_S - days * 86_400 // _STEP_S) * _STEP_S
    times_s = np.arange(first, end_s, _STEP_S, dtype=float)
    readings: list[Reading] = []
    for cfg in config.devices:
        owner = next((s for s in sites if cfg.name.startswith(f"{s}-")), None)
        if owner is None:
            continue
        dev = SimulatedDevice(cfg, site=site, seed=sim.seed)
        # only what the device's profile reads, as the gateway would publish it
        values = {q: v for q, v in _device_readings(cfg, dev, times_s, site).items()
                  if q in dev.model.quantities}
        if not values:
            continue
        name = cfg.name[len(owner) + 1:]
        for i, t in enumerate(times_s):
            readings.append(Reading(district=district, site=owner, device=name, kind=dev.model.kind,
                                    ts_ms=int(t * 1000), seq=i,
                                    values={q: round(float(v[i]), 3) for q, v in values.items()}))
    for k in range(0, len(readings), 5000):
        await store.write(readings[k:k + 5000])
    return len(readings)
