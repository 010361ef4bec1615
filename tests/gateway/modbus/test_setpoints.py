"""write_point: the battery inverter's setpoint register, read back, and the battery follows it."""

from __future__ import annotations

import asyncio

import pytest

from gateway.decode import EncodeError
from gateway.modbus import PollerGroup
from gateway.simulator import Simulator
from tests.gateway.simulator.support import gateway_device, sim_config, tcp
from tests.harness import free_port

BATTERY = "victron_ess"


async def test_a_written_setpoint_reads_back_and_the_simulated_battery_charges() -> None:
    port = free_port()
    cfg = sim_config([{"name": "bat", "profile": BATTERY, "transport": tcp(port), "unit_id": 227,
                       "battery": {"capacity_kwh": 100, "max_power_kw": 30, "soc_pct": 40}}],
                     speed=3600, tick_s=0.05)  # an hour per second
    async with Simulator(cfg) as sim:
        group = PollerGroup(devices=[gateway_device("bat", BATTERY, tcp(port), unit_id=227)])
        poller = group.poller("bat")
        try:
            before = (await poller.poll_once()).values
            assert await group.write_point("bat", "battery_power_setpoint_w", -20_000) == -20_000
            assert sim.devices["bat"].model.setpoint_w == -20_000
            soc = before["battery_soc_pct"]
            for _ in range(200):
                reading = (await poller.poll_once()).values
                if reading["battery_soc_pct"] >= before["battery_soc_pct"] + 2:
                    soc = reading["battery_soc_pct"]
                    break
                await asyncio.sleep(0.05)
            assert soc >= before["battery_soc_pct"] + 2
            assert reading["battery_power_setpoint_w"] == -20_000
            assert reading["battery_power_w"] == pytest.approx(-20_000, abs=1)  # charging

            # refused before anything reaches the wire
            writes = sim.devices["bat"].writes
            with pytest.raises(EncodeError):
                await group.write_point("bat", "battery_power_setpoint_w", 50_000)
            with pytest.raises(KeyError):
                await group.write_point("bat", "no_such_point", 1)
            assert sim.devices["bat"].writes == writes
        finally:
            await group.stop()
