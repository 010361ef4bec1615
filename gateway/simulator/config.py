"""The simulator's YAML config: which devices it serves, where, with which series and faults.

Loaded with :func:`nzd.config.load_model`, so every error names the file, the
line and the field. Transports and serial buses are the gateway config's own
types: a simulator config and the gateway config that polls it read alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from nzd.config import RtuTransport, SerialBusConfig, TcpTransport
from nzd.config.gateway import Transport
from nzd.identifiers import Identifier

__all__ = [
    "BatterySeries",
    "ClockConfig",
    "Faults",
    "LoadSeries",
    "PvSeries",
    "SimDeviceConfig",
    "SimulatorConfig",
    "WaterSeries",
    "load_simulator_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Fraction = Annotated[float, Field(ge=0, le=1)]
Hour = Annotated[float, Field(ge=0, le=24)]


class LoadSeries(_Strict):
    """Consumption following a BDEW standard load profile (nzd.series.load_profile_w)."""

    profile: str = "g1"
    annual_kwh: Annotated[float, Field(ge=0)]


class PvSeries(_Strict):
    """A PV plant at the site (nzd.series.pv_power_w); on a meter it is netted against the load."""

    kwp: Annotated[float, Field(ge=0)]
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0
    try_region: Annotated[int, Field(ge=1, le=15)] = 13


class BatterySeries(_Strict):
    """A battery that follows its power setpoint register and integrates its state of charge."""

    capacity_kwh: Annotated[float, Field(gt=0)]
    max_power_kw: Annotated[float, Field(gt=0)]
    soc_pct: Annotated[float, Field(ge=0, le=100)] = 50.0
    """State of charge at start."""
    min_soc_pct: Annotated[float, Field(ge=0, le=100)] = 5.0
    max_soc_pct: Annotated[float, Field(ge=0, le=100)] = 95.0
    efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    """Round-trip efficiency, applied on charging."""


class WaterSeries(_Strict):
    """Water demand (nzd.series.water_flow_m3h) with an optional leak (a constant flow on top)."""

    daily_m3: Annotated[float, Field(ge=0)]
    pattern: str = "industrial"
    leak_m3h: Annotated[float, Field(ge=0)] = 0.0
    leak_hours: tuple[Hour, Hour] | None = None
    """Local hours [start, end) of the leak, e.g. [22, 6] for a night leak; default: always."""
    volume_m3: Annotated[float, Field(ge=0)] = 0.0
    """Totaliser reading at start."""


class TankSeries(_Strict):
    """A tank whose level falls with a steady demand and rises with what its pump delivers: the pump
    is another simulated device whose ``pump_flow_setpoint_m3h`` register says how much."""

    volume_m3: Annotated[float, Field(gt=0)]
    demand_m3_per_day: Annotated[float, Field(ge=0)]
    pump_device: Identifier | None = None
    level_pct: Annotated[float, Field(ge=0, le=100)] = 50.0
    """Level at start."""


class Faults(_Strict):
    """Misbehaviour to inject, per device."""

    timeout: Fraction = 0.0
    """Share of requests left unanswered (1 = the device is silent)."""
    exception_code: Annotated[int, Field(ge=1, le=11)] | None = None
    """Modbus exception code to answer read requests with."""
    exception_rate: Fraction = 1.0
    """Share of read requests that get ``exception_code``."""
    nan: list[str] = Field(default_factory=list)
    """Quantities served as NaN (float types) or the profile's not-available pattern."""
    start: datetime | None = None
    """Simulated time (timezone-aware, on the district clock) the faults begin; default: at once."""
    end: datetime | None = None
    """Simulated time they end (the device is healthy again); default: never."""

    def active_at(self, t_s: float) -> bool:
        """Whether the faults apply at simulated epoch seconds ``t_s``: in ``[start, end)``."""
        if self.start is not None and self.start.tzinfo is not None and t_s < self.start.timestamp():
            return False
        return not (self.end is not None and self.end.tzinfo is not None and t_s >= self.end.timestamp())


class SimDeviceConfig(_Strict):
    name: Identifier
    profile: str
    """A shipped profile name or a path; ``sunspec`` serves the SunSpec models in ``sunspec``."""
    sunspec: list[int] | None = None
    """SunSpec model ids to serve (with ``profile: sunspec``), e.g. [1, 103, 160, 802]."""
    sunspec_base: Annotated[int, Field(ge=0, le=65000)] = 40000
    transport: Transport
    """Where to serve: ``{type: tcp, host, port}`` or ``{type: rtu, bus}``."""
    unit_id: Annotated[int, Field(ge=1, le=247)] = 1
    profile_options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    load: LoadSeries | None = None
    pv: PvSeries | None = None
    battery: BatterySeries | None = None
    water: WaterSeries | None = None
    tank: TankSeries | None = None
    behind: list[Identifier] = Field(default_factory=list)
    """Devices behind this (grid) meter whose power enters its reading: a battery (its
    ``battery_power_w``, discharging lowers the import), a batch controller (its
    ``load_power_setpoint_w``), a pump controller (its flow times ``kw_per_m3h``)."""
    kw_per_m3h: Annotated[float, Field(ge=0)] = 0.0
    """A pump controller's electrical power per m3/h of flow, for the meter it is behind."""
    values: dict[str, float] = Field(default_factory=dict)
    """Fixed values for quantities (override the models)."""
    noise_pct: Annotated[float, Field(ge=0, le=50)] = 0.5
    """Measurement noise, percent of the value."""
    faults: Faults = Field(default_factory=Faults)


class ClockConfig(_Strict):
    """Simulated time and place."""

    start: datetime | None = None
    """Simulated time at start (timezone-aware); default: now."""
    speed: Annotated[float, Field(ge=0, le=100_000)] = 1.0
    """Simulated seconds per real second: 1440 runs a day in a minute; 0 freezes time."""
    tick_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    """Real seconds between updates of the register images."""
    tz: str = "Europe/Rome"
    lat: Annotated[float, Field(ge=-90, le=90)] = 43.88
    lon: Annotated[float, Field(ge=-180, le=180)] = 11.10
    seed: int = 0


class SimulatorConfig(_Strict):
    simulator: ClockConfig = Field(default_factory=ClockConfig)
    """Clock (start, speed), site (lat, lon, tz) and random seed; the key also marks the file kind."""
    buses: list[SerialBusConfig] = Field(default_factory=list)
    """Serial buses; ``port: auto`` makes a pseudo-terminal pair with socat."""
    devices: Annotated[list[SimDeviceConfig], Field(min_length=1)]

    def cross_check(self) -> Iterator[tuple[tuple[int | str, ...], str]]:
        from gateway.profiles import load_profile
        from nzd.errors import ConfigError

        if self.simulator.start is not None and self.simulator.start.tzinfo is None:
            yield ("simulator", "start"), "must carry a timezone (e.g. 2026-06-03T06:00:00+02:00)"
        buses = {b.name for b in self.buses}
        names: set[str] = set()
        endpoints: dict[tuple[str, int | str], set[int]] = {}
        for i, dev in enumerate(self.devices):
            if dev.name in names:
                yield ("devices", i, "name"), f"duplicate device name {dev.name!r}"
            names.add(dev.name)
            t = dev.transport
            key: tuple[str, int | str]
            if isinstance(t, RtuTransport):
                if t.bus not in buses:
                    yield ("devices", i, "transport", "bus"), f"unknown serial bus {t.bus!r}"
                key = ("rtu", t.bus)
            else:
                assert isinstance(t, TcpTransport)
                key = ("tcp", t.port)
            if (dev.profile == "sunspec") != (dev.sunspec is not None):
                yield ("devices", i, "sunspec"), "a SunSpec device needs profile: sunspec and its model ids"
                continue
            try:
                if dev.sunspec is not None:
                    from gateway.modbus.sunspec import build_profile, sunspec_image

                    points = build_profile(sunspec_image(dev.sunspec, base=dev.sunspec_base)[0]).resolve()
                else:
                    points = load_profile(dev.profile).resolve(dev.profile_options)
            except ConfigError as exc:
                yield ("devices", i, "profile"), "; ".join(exc.errors)
                continue
            except (ValueError, LookupError) as exc:
                yield ("devices", i, "sunspec"), str(exc)
                continue
            units = endpoints.setdefault(key, set())
            for unit in sorted({dev.unit_id} | {p.unit_id for p in points if p.unit_id is not None}):
                if unit in units:
                    yield ("devices", i, "unit_id"), f"unit id {unit} is already served on {key[1]}"
                units.add(unit)
            quantities = {p.quantity for p in points}
            yield from _fault_window(i, dev.faults)
            for j, q in enumerate(dev.faults.nan):
                if q not in quantities:
                    yield ("devices", i, "faults", "nan", j), f"the profile has no point {q!r}"
            for q in dev.values:
                if q not in quantities:
                    yield ("devices", i, "values", q), f"the profile has no point {q!r}"
            if dev.battery and "battery_power_setpoint_w" not in quantities:
                yield ("devices", i, "battery"), "the profile has no battery_power_setpoint_w point"
            if dev.load is not None:
                from nzd.series import LOAD_PROFILES

                if dev.load.profile not in LOAD_PROFILES:
                    yield ("devices", i, "load", "profile"), (
                        f"unknown load profile; choose one of {', '.join(LOAD_PROFILES)}")
            if dev.water is not None:
                from nzd.series import WATER_PATTERNS

                if dev.water.pattern not in WATER_PATTERNS:
                    yield ("devices", i, "water", "pattern"), (
                        f"unknown pattern; choose one of {', '.join(WATER_PATTERNS)}")


def _fault_window(i: int, faults: Faults) -> Iterator[tuple[tuple[int | str, ...], str]]:
    for name in ("start", "end"):
        when = getattr(faults, name)
        if when is not None and when.tzinfo is None:
            yield ("devices", i, "faults", name), "must carry a timezone (e.g. 2026-06-17T09:30:00+02:00)"
    if faults.start is not None and faults.end is not None and faults.start.tzinfo and faults.end.tzinfo \
            and faults.end <= faults.start:
        yield ("devices", i, "faults", "end"), f"must be after start ({faults.start.isoformat()})"


def load_simulator_config(path: str | Path) -> SimulatorConfig:
    from nzd.config import load_model

    return load_model(path, SimulatorConfig)
