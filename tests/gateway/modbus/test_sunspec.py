"""SunSpec discovery against simulated SunSpec devices, then polling them like any profile."""

from __future__ import annotations

import pytest

from gateway.modbus import TcpLink
from gateway.modbus.sunspec import build_profile, discover, model_layout
from gateway.simulator import Simulator
from nzd.messages import DeviceKind
from tests.gateway.simulator.support import gateway_device, poll_once, sim_config, tcp
from tests.harness import free_port


@pytest.mark.parametrize(("base", "models", "kind"), [
    (40000, [1, 103, 160], DeviceKind.PV_INVERTER),
    (0, [1, 113], DeviceKind.PV_INVERTER),
    (50000, [1, 203], DeviceKind.ELECTRICITY_METER),
    (40000, [1, 124, 802], DeviceKind.BATTERY),
    (40000, [1, 101], DeviceKind.PV_INVERTER),
    (40000, [1, 102], DeviceKind.PV_INVERTER),
    (40000, [1, 111], DeviceKind.PV_INVERTER),
    (40000, [1, 112], DeviceKind.PV_INVERTER),
    (40000, [1, 201], DeviceKind.ELECTRICITY_METER),
    (40000, [1, 202], DeviceKind.ELECTRICITY_METER),
    (40000, [1, 204], DeviceKind.ELECTRICITY_METER),
])
async def test_discovery_walks_the_model_chain_and_polls_with_scale_factors(
        base: int, models: list[int], kind: DeviceKind) -> None:
    port = free_port()
    series = {"pv": {"kwp": 30}} if kind is DeviceKind.PV_INVERTER else (
        {"battery": {"capacity_kwh": 50, "max_power_kw": 20, "soc_pct": 73}} if kind is DeviceKind.BATTERY
        else {"load": {"profile": "g3", "annual_kwh": 500_000}})
    cfg = sim_config([{"name": "ss", "profile": "sunspec", "sunspec": models, "sunspec_base": base,
                       "transport": tcp(port), **series}])
    async with Simulator(cfg) as sim:
        link = TcpLink(host="127.0.0.1", port=port)
        try:
            found = await discover(link, unit_id=1, timeout_s=1.0)
        finally:
            await link.close()
        assert found.base == base
        assert [m.id for m in found.models] == models
        assert found.manufacturer == "nzd" and found.model == "ss"
        assert all(m.length == max(p.offset + p.size for p in model_layout(m.id).values()) - 2
                   for m in found.models)
        profile = build_profile(found)
        assert profile.kind is kind
        assert profile.headline == {DeviceKind.BATTERY: ["battery_power_w", "battery_soc_pct"],
                                    DeviceKind.PV_INVERTER: ["pv_power_w"],
                                    DeviceKind.ELECTRICITY_METER: ["active_power_w"]}[kind]
        served = sim.devices["ss"].served()
        result = (await poll_once([gateway_device("ss", "sunspec", tcp(port))]))["ss"]
    assert result.ok and result.kind is kind
    assert result.values == {q: r.value for q, r in served.items() if r.quality is None}
    if kind is DeviceKind.BATTERY:
        assert result.values["battery_soc_pct"] == pytest.approx(73, abs=0.1)
    if kind is DeviceKind.PV_INVERTER:
        assert result.values["pv_power_w"] > 1000  # late morning in June
        assert result.values["pv_energy_wh"] > 0
    if kind is DeviceKind.ELECTRICITY_METER:
        assert result.values["active_power_w"] > 10_000  # a continuous 500 MWh/year business
        assert result.values["energy_import_wh"] > 0


async def test_a_device_without_sunspec_is_reported_not_crashed() -> None:
    port = free_port()
    cfg = sim_config([{"name": "plain", "profile": "eastron_sdm630", "transport": tcp(port)}])
    async with Simulator(cfg):
        link = TcpLink(host="127.0.0.1", port=port)
        try:
            with pytest.raises(LookupError, match="no SunSpec marker"):
                await discover(link, unit_id=1, timeout_s=0.5)
        finally:
            await link.close()
        result = (await poll_once([gateway_device("plain", "sunspec", tcp(port))]))["plain"]
    assert not result.ok and "SunSpec discovery" in (result.error or "")
