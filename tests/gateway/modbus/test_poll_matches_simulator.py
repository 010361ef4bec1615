"""What the poller decodes equals what the simulator serves, for every shipped profile (TCP)."""

from __future__ import annotations

import pytest

from gateway.profiles import available_profiles, load_profile
from gateway.simulator import Simulator
from tests.gateway.simulator.support import SERIES, gateway_device, poll_once, sim_config, tcp
from tests.harness import free_port


@pytest.mark.parametrize("profile", available_profiles())
async def test_every_profile_polls_back_what_the_simulator_serves(profile: str) -> None:
    kind = load_profile(profile).kind
    port = free_port()
    cfg = sim_config([{"name": "dev", "profile": profile, "transport": tcp(port), "unit_id": 3,
                       **SERIES.get(kind, {})}])
    async with Simulator(cfg) as sim:
        served = sim.devices["dev"].served()
        result = (await poll_once([gateway_device("dev", profile, tcp(port), unit_id=3)]))["dev"]
    assert result.ok, result.error
    assert result.kind == kind
    good = {q: r.value for q, r in served.items() if r.quality is None and isinstance(r.value, float)}
    assert good, "the simulator served no numeric value"
    assert {q: result.values.get(q) for q in good} == good
    assert result.quality == {q: r.quality for q, r in served.items() if r.quality is not None}
    # one telemetry message per reading, all values at the read time
    message = result.telemetry(seq=7)
    assert message.ts == result.ts_ms and message.device == "dev" and message.kind == kind


async def test_a_unit_id_nobody_serves_stays_silent_like_on_a_real_bus() -> None:
    port = free_port()
    cfg = sim_config([{"name": "dev", "profile": "eastron_sdm630", "transport": tcp(port), "unit_id": 1}])
    async with Simulator(cfg):
        results = await poll_once([gateway_device("ghost", "eastron_sdm630", tcp(port), unit_id=9,
                                                  timeout_s=0.2, retries=0),
                                   gateway_device("dev", "eastron_sdm630", tcp(port), unit_id=1)])
    assert not results["ghost"].ok and "no answer" in (results["ghost"].error or "")
    assert results["dev"].ok


@pytest.mark.parametrize("order", ["ABCD", "CDAB", "BADC", "DCBA"])
async def test_a_selectable_byte_order_reads_back_in_every_order(order: str) -> None:
    profile = "siemens_sitrans_mag6000"
    port = free_port()
    options = {"byte_order": order}
    cfg = sim_config([{"name": "flow", "profile": profile, "transport": tcp(port), "profile_options": options,
                       "water": {"daily_m3": 500, "volume_m3": 123456.789}}])
    async with Simulator(cfg) as sim:
        served = sim.devices["flow"].served()
        result = (await poll_once([gateway_device("flow", profile, tcp(port),
                                                  profile_options=options)]))["flow"]
    assert result.values["water_volume_m3"] == served["water_volume_m3"].value
    assert result.values["water_volume_m3"] == pytest.approx(123456.789, abs=1.0)
    assert result.values["water_flow_m3h"] == served["water_flow_m3h"].value > 0
