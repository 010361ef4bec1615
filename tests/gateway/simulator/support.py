"""Helpers shared by the Modbus and simulator tests: configs built in code, one poll cycle."""

from __future__ import annotations

import asyncio
import re
import subprocess
from typing import Any

from gateway.modbus import PollerGroup, PollResult
from gateway.simulator import SimulatorConfig
from nzd.config import DeviceConfig, SerialBusConfig
from nzd.messages import DeviceKind

FROZEN_START = "2026-06-03T11:00:00+02:00"

#: Series that make each kind of device show non-trivial values.
SERIES: dict[DeviceKind, dict[str, Any]] = {
    DeviceKind.ELECTRICITY_METER: {"load": {"profile": "g1", "annual_kwh": 300_000}, "pv": {"kwp": 60}},
    DeviceKind.PV_INVERTER: {"pv": {"kwp": 20}},
    DeviceKind.BATTERY: {"battery": {"capacity_kwh": 100, "max_power_kw": 30, "soc_pct": 60}},
    DeviceKind.WATER_FLOW_METER: {"water": {"daily_m3": 240, "leak_m3h": 0.5}},
}


def sim_config(devices: list[dict[str, Any]], *, buses: list[dict[str, Any]] | None = None,
               **clock: Any) -> SimulatorConfig:
    """A simulator config with a frozen clock unless ``speed`` is given."""
    data = {"simulator": {"speed": 0, "start": FROZEN_START} | clock, "devices": devices,
            "buses": buses or []}
    return SimulatorConfig.model_validate(data)


def tcp(port: int) -> dict[str, Any]:
    return {"type": "tcp", "host": "127.0.0.1", "port": port}


def gateway_device(name: str, profile: str, transport: dict[str, Any], **extra: Any) -> DeviceConfig:
    data = {"name": name, "profile": profile, "transport": transport, "timeout_s": 1.0, "retries": 1} | extra
    return DeviceConfig.model_validate(data)


async def poll_once(devices: list[DeviceConfig], *, buses: list[SerialBusConfig] | None = None
                    ) -> dict[str, PollResult]:
    """One cycle of each device, outside the time grid (the grid is tested on its own)."""
    group = PollerGroup(devices=devices, buses=buses or [])
    try:
        return {name: await p.poll_once() for name, p in group.pollers.items()}
    finally:
        await group.stop()


_MBPOLL_LINE = re.compile(r"^\[(\d+)\]:\s+(\S+)", re.M)


async def mbpoll(args: list[str]) -> dict[int, str]:
    """Run Debian's mbpoll once; returns {reference: printed value}."""
    from tests.harness import require_binary

    binary = require_binary("mbpoll", "mbpoll")
    proc = await asyncio.to_thread(subprocess.run, [binary, "-1", "-0", *args], capture_output=True,
                                   text=True, timeout=30)
    found = {int(a): v for a, v in _MBPOLL_LINE.findall(proc.stdout)}
    if not found:
        raise AssertionError(f"mbpoll read nothing: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    return found
