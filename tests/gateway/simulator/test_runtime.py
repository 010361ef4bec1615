"""Simulated time: a day in seconds for demos, frozen for tests."""

from __future__ import annotations

import asyncio

from gateway.simulator import Simulator
from tests.gateway.simulator.support import gateway_device, poll_once, sim_config, tcp
from tests.harness import free_ports


async def test_an_accelerated_day_brings_the_sun_up_and_the_totaliser_forward() -> None:
    pv_port, water_port = free_ports(2)
    cfg = sim_config(
        [{"name": "pv", "profile": "sunspec", "sunspec": [1, 103], "transport": tcp(pv_port),
          "pv": {"kwp": 50}},
         {"name": "flow", "profile": "siemens_sitrans_mag6000", "transport": tcp(water_port),
          "water": {"daily_m3": 480, "volume_m3": 1000}}],
        start="2026-06-03T03:00:00+02:00", speed=14_400, tick_s=0.05)  # four hours per second
    devices = [gateway_device("pv", "sunspec", tcp(pv_port)),
               gateway_device("flow", "siemens_sitrans_mag6000", tcp(water_port))]
    async with Simulator(cfg) as sim:
        first = await poll_once(devices)
        eleven = sim.clock.start_s + 8 * 3600
        await asyncio.sleep((eleven - sim.clock.now()) / sim.clock.speed + 0.2)  # past 11:00 simulated
        later = await poll_once(devices)
    assert first["pv"].values["pv_power_w"] == 0  # 03:00, dark
    assert later["pv"].values["pv_power_w"] > 5_000  # late morning
    assert later["pv"].values["pv_energy_wh"] > first["pv"].values["pv_energy_wh"]
    # eight hours of a Wednesday morning: the totaliser moved by the integral of the flow
    moved = later["flow"].values["water_volume_m3"] - first["flow"].values["water_volume_m3"]
    assert 50 < moved < 480  # less than a whole day's draw
