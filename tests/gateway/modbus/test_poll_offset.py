"""A device's poll offset places its reads at that point of every interval, still on a grid."""

from __future__ import annotations

import asyncio

from gateway.modbus import PollerGroup, PollResult
from gateway.profiles import load_profile
from gateway.simulator import Simulator
from tests.gateway.simulator.support import SERIES, gateway_device, sim_config, tcp
from tests.harness import free_ports

METER = "eastron_sdm630"
INTERVAL_S = 1.0


def _phase(result: PollResult) -> float:
    return (result.ts_ms / 1000) % INTERVAL_S


async def test_offset_devices_are_read_half_an_interval_later_on_their_own_grid() -> None:
    ports = dict(zip(("on-grid", "offset"), free_ports(2), strict=True))
    series = SERIES[load_profile(METER).kind]
    cfg = sim_config([{"name": n, "profile": METER, "transport": tcp(p), **series}
                      for n, p in ports.items()], speed=60)
    results: dict[str, list[PollResult]] = {n: [] for n in ports}
    enough = asyncio.Event()

    async def collect(r: PollResult) -> None:
        results[r.device].append(r)
        if all(len(v) >= 4 for v in results.values()):
            enough.set()

    devices = [gateway_device("on-grid", METER, tcp(ports["on-grid"]), poll_interval_s=INTERVAL_S),
               gateway_device("offset", METER, tcp(ports["offset"]), poll_interval_s=INTERVAL_S,
                              poll_offset_s=0.5)]
    async with Simulator(cfg), PollerGroup(devices=devices, on_result=collect):
        await asyncio.wait_for(enough.wait(), timeout=60)

    # each device is read once per interval, no slot skipped, at its own point of the interval
    for name, offset in (("on-grid", 0.0), ("offset", 0.5)):
        slots = [round((r.ts_ms / 1000 - offset) / INTERVAL_S) for r in results[name]]
        assert slots == list(range(slots[0], slots[0] + len(slots))), name
    assert all(_phase(r) < 0.25 for r in results["on-grid"])
    assert all(0.5 <= _phase(r) < 0.75 for r in results["offset"])
