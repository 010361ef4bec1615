"""What a simulated device measures: physical models driven by nzd.series.

A model advances in simulated time (:meth:`DeviceModel.advance`) and reports
its values by quantity. Counters (energy, volume) integrate the power or flow
over the simulated interval, so they agree with the instantaneous values. A
battery follows the setpoint written to its register and stops at its SOC
limits. Quantities no model covers get a plausible constant with a little noise.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable

import numpy as np

from gateway.profiles import Point
from gateway.simulator.config import SimDeviceConfig
from nzd.messages import DeviceKind

__all__ = ["DeviceModel", "Site"]

# plausible readings for quantities no model sets (noise is added on top)
_DEFAULTS: dict[str, float] = {
    "frequency_hz": 50.0, "voltage_v": 231.0, "voltage_l1_v": 231.0, "voltage_l2_v": 230.0,
    "voltage_l3_v": 232.0, "voltage_l1_l2_v": 400.0, "voltage_l2_l3_v": 399.0, "voltage_l3_l1_v": 401.0,
    "power_factor": 0.95, "inverter_temperature_c": 38.0, "inverter_state": 4.0,
    "battery_soh_pct": 97.0, "battery_temperature_c": 24.0, "battery_mode": 1.0,
    "water_pressure_bar": 3.2, "water_temperature_c": 16.0, "tank_level_pct": 55.0, "tank_level_m": 2.2,
    "conductivity_us_cm": 850.0, "turbidity_ntu": 1.4, "ph": 7.4, "device_temperature_c": 31.0,
    "status_word": 0.0, "pump_running": 0.0, "load_running": 0.0, "analog_current_ma": 12.0,
}
_EXACT = {"inverter_state", "battery_mode", "status_word", "pump_running", "load_running"}

SeriesFn = Callable[[np.ndarray], np.ndarray]


class Site:
    """Where the district is: position and time zone for the series."""

    def __init__(self, *, lat: float, lon: float, tz: str) -> None:
        self.lat, self.lon, self.tz = lat, lon, tz


class _DailyCache:
    """A series evaluated once per simulated day on a 60 s grid, then interpolated."""

    STEP_S = 60.0

    def __init__(self, fn: SeriesFn) -> None:
        self.fn = fn
        self.days: dict[int, np.ndarray] = {}

    def __call__(self, t: float) -> float:
        day = int(t // 86400)
        if day not in self.days:
            if len(self.days) > 3:
                self.days.clear()
            grid = day * 86400.0 + np.arange(0, 86400 + self.STEP_S, self.STEP_S)
            self.days[day] = self.fn(grid)
        values = self.days[day]
        pos = (t - day * 86400.0) / self.STEP_S
        i = min(int(pos), len(values) - 2)
        frac = pos - i
        return float(values[i] * (1 - frac) + values[i + 1] * frac)


class DeviceModel:
    def __init__(self, cfg: SimDeviceConfig, *, kind: DeviceKind, points: list[Point], site: Site,
                 seed: int = 0) -> None:
        from nzd import series

        self.cfg = cfg
        self.kind = kind
        self.quantities = {p.quantity for p in points}
        self.rng = random.Random(seed * 1_000_003 + zlib.crc32(cfg.name.encode()))
        self.t: float | None = None
        self.values: dict[str, float] = {}
        self.counters: dict[str, float] = {}
        self.setpoint_w = 0.0
        self.battery_power_w = 0.0
        self.soc_pct = cfg.battery.soc_pct if cfg.battery else 0.0
        self.volume_m3 = cfg.water.volume_m3 if cfg.water else 0.0
        self.tank_level_pct = cfg.tank.level_pct if cfg.tank else 0.0
        self.behind_w = 0.0
        """What the devices behind this meter draw now (the simulator sums it each tick)."""
        self.pump_flow_m3h = 0.0
        """What the tank's pump delivers now (the simulator copies it from the pump's register)."""
        self._load: _DailyCache | None = None
        self._pv: _DailyCache | None = None
        self._water: _DailyCache | None = None
        if cfg.load:
            ld = cfg.load
            self._load = _DailyCache(lambda t: series.load_profile_w(ld.profile, t, annual_kwh=ld.annual_kwh,
                                                                      tz=site.tz))
        if cfg.pv:
            pv = cfg.pv
            self._pv = _DailyCache(lambda t: series.pv_power_w(
                pv.kwp, t, lat=site.lat, lon=site.lon, tilt_deg=pv.tilt_deg, azimuth_deg=pv.azimuth_deg,
                try_region=pv.try_region))
        if cfg.water:
            w = cfg.water
            self._water = _DailyCache(lambda t: series.water_flow_m3h(
                t, daily_m3=w.daily_m3, pattern=w.pattern, leak_m3h=w.leak_m3h, leak_hours=w.leak_hours,
                tz=site.tz))
        # counters start at a believable reading, not zero
        # (high enough that a week of seeded history, counted back from it, stays positive)
        base = 20_000_000.0 + self.rng.random() * 80_000_000.0
        for q in ("energy_import_wh", "energy_export_wh", "pv_energy_wh", "battery_charge_energy_wh",
                  "battery_discharge_energy_wh", "reactive_energy_import_varh",
                  "reactive_energy_export_varh"):
            share = (0.1 if "export" in q or "battery" in q else 1.0) * (0.3 if "reactive" in q else 1.0)
            self.counters[q] = round(base * share)

    def drawn_w(self) -> float:
        """What this device draws from its site now (negative: it feeds the site)."""
        v = self.values
        if self.cfg.battery:
            return -self.battery_power_w
        if "load_power_setpoint_w" in v:
            return max(0.0, v["load_power_setpoint_w"])
        if "pump_flow_setpoint_m3h" in v:
            return max(0.0, v["pump_flow_setpoint_m3h"]) * self.cfg.kw_per_m3h * 1000.0
        return 0.0

    def write(self, quantity: str, value: float) -> None:
        """A master wrote a writable point."""
        if quantity == "battery_power_setpoint_w":
            self.setpoint_w = value
        self.values[quantity] = value

    def advance(self, t: float) -> None:
        """Move the model to simulated epoch second ``t`` and recompute its values."""
        dt_h = 0.0 if self.t is None else max(0.0, t - self.t) / 3600.0
        self.t = t
        load_w = self._load(t) if self._load else 0.0
        pv_w = self._pv(t) if self._pv else 0.0
        v: dict[str, float] = {}
        if self.cfg.battery:
            self._battery(v, dt_h)
        if self.kind is DeviceKind.PV_INVERTER or (self._pv and not self._load and not self.cfg.battery):
            self._pv_inverter(v, pv_w, dt_h)
        elif self._load or self._pv:
            self._meter(v, load_w - pv_w + self.behind_w, dt_h)
        if self._water:
            flow = self._water(t)
            self.volume_m3 += flow * dt_h
            v["water_flow_m3h"] = flow
            v["water_volume_m3"] = self.volume_m3
        if self.cfg.tank:
            self._tank(v, dt_h)
        # a plain controller runs while its setpoint asks for something
        for setpoint, running in (("pump_flow_setpoint_m3h", "pump_running"),
                                  ("load_power_setpoint_w", "load_running")):
            if running in self.quantities and setpoint in self.values:
                v[running] = 1.0 if self.values[setpoint] > 0 else 0.0
        self._analog(v, t)
        self._fill(v)

    # -- the models -----------------------------------------------------------------

    def _noise(self, value: float) -> float:
        return value * (1.0 + self.rng.gauss(0.0, self.cfg.noise_pct / 100.0 / 2.0))

    def _electrical(self, v: dict[str, float], power_w: float) -> None:
        """Phase values that go with a total active power (balanced, slightly noisy)."""
        v["active_power_w"] = power_w
        pf = 0.95 if power_w >= 0 else -0.98
        for i, ph in enumerate(("l1", "l2", "l3")):
            share = power_w / 3.0 * (1.0 + (i - 1) * 0.04)
            volts = self._noise(_DEFAULTS[f"voltage_{ph}_v"])
            v[f"active_power_{ph}_w"] = self._noise(share)
            v[f"voltage_{ph}_v"] = volts
            v[f"current_{ph}_a"] = abs(share) / volts / abs(pf)
        v["current_a"] = v["current_l1_a"] + v["current_l2_a"] + v["current_l3_a"]
        v["current_n_a"] = abs(v["current_l1_a"] - v["current_l3_a"]) * 0.5
        v["voltage_v"] = (v["voltage_l1_v"] + v["voltage_l2_v"] + v["voltage_l3_v"]) / 3.0
        v["apparent_power_va"] = abs(power_w / pf)
        v["reactive_power_var"] = math.copysign(math.sqrt(max(v["apparent_power_va"] ** 2 - power_w**2, 0.0)),
                                                power_w)
        v["power_factor"] = pf
        v["frequency_hz"] = 50.0 + self.rng.gauss(0.0, 0.01)

    def _meter(self, v: dict[str, float], net_w: float, dt_h: float) -> None:
        net_w = self._noise(net_w)
        self._electrical(v, net_w)
        c = self.counters
        if net_w >= 0:
            c["energy_import_wh"] += net_w * dt_h
            c["reactive_energy_import_varh"] += abs(v["reactive_power_var"]) * dt_h
        else:
            c["energy_export_wh"] += -net_w * dt_h
            c["reactive_energy_export_varh"] += abs(v["reactive_power_var"]) * dt_h
        v["energy_import_wh"] = c["energy_import_wh"]
        v["energy_export_wh"] = c["energy_export_wh"]
        v["energy_total_wh"] = c["energy_import_wh"] + c["energy_export_wh"]
        v["reactive_energy_import_varh"] = c["reactive_energy_import_varh"]
        v["reactive_energy_export_varh"] = c["reactive_energy_export_varh"]

    def _pv_inverter(self, v: dict[str, float], pv_w: float, dt_h: float) -> None:
        pv_w = max(0.0, self._noise(pv_w)) if pv_w > 0 else 0.0
        self.counters["pv_energy_wh"] += pv_w * dt_h
        self._electrical(v, -pv_w)
        v["pv_power_w"] = pv_w
        v["pv_dc_power_w"] = pv_w / 0.975
        v["pv_dc_voltage_v"] = 620.0 if pv_w > 0 else 0.0
        v["pv_dc_current_a"] = v["pv_dc_power_w"] / 620.0
        v["pv_energy_wh"] = self.counters["pv_energy_wh"]
        v["energy_export_wh"] = self.counters["pv_energy_wh"]
        v["inverter_state"] = 4.0 if pv_w > 0 else 2.0  # SunSpec: 4 MPPT, 2 sleeping
        v["inverter_temperature_c"] = 25.0 + pv_w / max(self.cfg.pv.kwp if self.cfg.pv else 1.0, 0.1) / 50.0

    def _battery(self, v: dict[str, float], dt_h: float) -> None:
        b = self.cfg.battery
        assert b is not None
        limit_w = b.max_power_kw * 1000.0
        power_w = min(max(self.setpoint_w, -limit_w), limit_w)
        if power_w > 0 and self.soc_pct <= b.min_soc_pct:
            power_w = 0.0
        if power_w < 0 and self.soc_pct >= b.max_soc_pct:
            power_w = 0.0
        energy_kwh = power_w * dt_h / 1000.0
        if energy_kwh < 0:  # charging: losses on the way in
            self.soc_pct -= energy_kwh * b.efficiency / b.capacity_kwh * 100.0
            self.counters["battery_charge_energy_wh"] += -energy_kwh * 1000.0
        else:
            self.soc_pct -= energy_kwh / b.capacity_kwh * 100.0
            self.counters["battery_discharge_energy_wh"] += energy_kwh * 1000.0
        self.soc_pct = min(max(self.soc_pct, 0.0), 100.0)
        self.battery_power_w = power_w
        volts = 700.0 + 100.0 * self.soc_pct / 100.0
        v["battery_power_w"] = power_w
        v["battery_soc_pct"] = self.soc_pct
        v["battery_voltage_v"] = volts
        v["battery_current_a"] = power_w / volts
        v["battery_power_setpoint_w"] = self.setpoint_w
        v["battery_charge_energy_wh"] = self.counters["battery_charge_energy_wh"]
        v["battery_discharge_energy_wh"] = self.counters["battery_discharge_energy_wh"]
        if not self._load and not self._pv:
            self._electrical(v, -power_w)

    def _tank(self, v: dict[str, float], dt_h: float) -> None:
        tank = self.cfg.tank
        assert tank is not None
        net_m3 = (self.pump_flow_m3h - tank.demand_m3_per_day / 24.0) * dt_h
        self.tank_level_pct = min(max(self.tank_level_pct + net_m3 / tank.volume_m3 * 100.0, 0.0), 100.0)
        level = self.tank_level_pct
        v["tank_level_pct"] = level
        v["tank_level_m"] = 4.0 * level / 100.0
        v["analog_current_ma"] = 4.0 + 16.0 * level / 100.0

    def _analog(self, v: dict[str, float], t: float) -> None:
        """Tank level swings over the day; pressure and quality wander a little."""
        phase = 2 * math.pi * ((t / 86400.0) % 1.0)
        level = 55.0 + 25.0 * math.sin(phase)
        for q, value in (("tank_level_pct", level), ("tank_level_m", 4.0 * level / 100.0),
                         ("analog_current_ma", 4.0 + 16.0 * level / 100.0),
                         ("water_pressure_bar", 3.2 + 0.3 * math.cos(phase))):
            if q in self.quantities and q not in v:
                v[q] = self._noise(value)

    def _fill(self, v: dict[str, float]) -> None:
        out: dict[str, float] = {}
        for q in self.quantities:
            if q in self.cfg.values:
                out[q] = self.cfg.values[q]
            elif q in v:
                out[q] = v[q]
            elif q in self.values and "_setpoint_" in q:  # what a master wrote stays until rewritten
                out[q] = self.values[q]
            elif q in self.counters:
                out[q] = self.counters[q]
            elif q in _DEFAULTS:
                out[q] = _DEFAULTS[q] if q in _EXACT else self._noise(_DEFAULTS[q])
            else:
                out[q] = 0.0
        self.values = out
