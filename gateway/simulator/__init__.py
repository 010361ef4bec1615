"""The factory floor for demos and tests: pymodbus servers serving any shipped profile.

Values come from realistic series (:mod:`nzd.series`): BDEW load profiles, PV from
a test reference year, batteries that follow their setpoint register, water
meters that integrate flow (with an optional leak). Faults (timeouts, exception
codes, NaN) can be injected per device. ``nzd simulate CONFIG`` runs it.
"""

from gateway.simulator.config import (
    BatterySeries,
    ClockConfig,
    Faults,
    LoadSeries,
    PvSeries,
    SimDeviceConfig,
    SimulatorConfig,
    WaterSeries,
    load_simulator_config,
)
from gateway.simulator.device import SimulatedDevice
from gateway.simulator.pty import PtyPair, open_pty_pair
from gateway.simulator.runtime import SimClock, Simulator

__all__ = [
    "BatterySeries",
    "ClockConfig",
    "Faults",
    "LoadSeries",
    "PtyPair",
    "PvSeries",
    "SimClock",
    "SimDeviceConfig",
    "SimulatedDevice",
    "Simulator",
    "SimulatorConfig",
    "WaterSeries",
    "load_simulator_config",
    "open_pty_pair",
]
