"""Modbus RTU over a socat pseudo-terminal pair, and Debian's mbpoll as an independent master.

The simulator serves on one end of the pair; the poller (and then mbpoll) open
the other end, as a gateway opens its RS-485 adapter.
"""

from __future__ import annotations

import pytest

from gateway.simulator import Simulator
from nzd.config import SerialBusConfig
from nzd.messages import DeviceKind
from tests.gateway.simulator.support import SERIES, gateway_device, mbpoll, poll_once, sim_config, tcp
from tests.harness import free_port, require_binary

METER = "eastron_sdm630"
FLOW = "siemens_sitrans_mag6000"
BAUD = 19200


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_binary("socat", "socat")
    require_binary("mbpoll", "mbpoll")


def _rtu_sim(**extra: object):
    return sim_config(
        [
            {"name": "meter", "profile": METER, "transport": {"type": "rtu", "bus": "rs485"}, "unit_id": 1,
             **SERIES[DeviceKind.ELECTRICITY_METER]},
            {"name": "flow", "profile": FLOW, "transport": {"type": "rtu", "bus": "rs485"}, "unit_id": 5,
             "profile_options": {"byte_order": "CDAB"}, **SERIES[DeviceKind.WATER_FLOW_METER]},
        ],
        buses=[{"name": "rs485", "port": "auto", "baudrate": BAUD}],
        **extra,
    )


async def test_two_devices_on_one_rtu_bus_poll_back_what_is_served_and_mbpoll_agrees() -> None:
    async with Simulator(_rtu_sim()) as sim:
        port = sim.client_port("rs485")
        bus = SerialBusConfig(name="rs485", port=port, baudrate=BAUD)
        rtu = {"type": "rtu", "bus": "rs485"}
        results = await poll_once(
            [gateway_device("meter", METER, rtu, unit_id=1),
             gateway_device("flow", FLOW, rtu, unit_id=5, profile_options={"byte_order": "CDAB"})],
            buses=[bus])
        for name in ("meter", "flow"):
            served = sim.devices[name].served()
            assert results[name].ok, results[name].error
            assert results[name].values == {q: r.value for q, r in served.items() if r.quality is None}
        # mbpoll on the same wire, once the poller has let go of it
        base = ["-m", "rtu", "-b", str(BAUD), "-P", "none", "-s", "1"]
        meter = await mbpoll([*base, "-a", "1", "-t", "3:float", "-B", "-r", "52", "-c", "1", port])
        flow = await mbpoll([*base, "-a", "5", "-t", "4:float", "-r", "3002", "-c", "1", port])
    assert float(meter[52]) == pytest.approx(results["meter"].values["active_power_w"], rel=1e-5)
    # mbpoll's default float order is CDAB ("little endian" words), the order this flowmeter is set to
    flow_m3h = float(flow[3002]) * 3600  # the register holds m³/s
    assert flow_m3h == pytest.approx(results["flow"].values["water_flow_m3h"], rel=1e-5)
    assert results["flow"].values["water_flow_m3h"] > 0


async def test_mbpoll_over_tcp_reads_what_the_poller_publishes() -> None:
    port = free_port()
    cfg = sim_config([{"name": "meter", "profile": METER, "transport": tcp(port), "unit_id": 7,
                       **SERIES[DeviceKind.ELECTRICITY_METER]}])
    async with Simulator(cfg):
        result = (await poll_once([gateway_device("meter", METER, tcp(port), unit_id=7)]))["meter"]
        floats = await mbpoll(["-m", "tcp", "-p", str(port), "-a", "7", "-t", "3:float", "-B", "-r", "0",
                               "-c", "6", "127.0.0.1"])
        raw = await mbpoll(["-m", "tcp", "-p", str(port), "-a", "7", "-t", "3:hex", "-r", "52", "-c", "2",
                            "127.0.0.1"])
    names = ["voltage_l1_v", "voltage_l2_v", "voltage_l3_v", "current_l1_a", "current_l2_a", "current_l3_a"]
    for i, name in enumerate(names):
        assert float(floats[2 * i]) == pytest.approx(result.values[name], rel=1e-5), name
    # the raw words of total power, decoded by hand as IEEE 754 big-endian
    import struct

    words = [int(raw[52], 16), int(raw[53], 16)]
    power = struct.unpack(">f", struct.pack(">HH", *words))[0]
    assert power == result.values["active_power_w"]


async def test_devices_on_one_bus_polled_on_the_same_grid_take_turns_on_the_wire() -> None:
    """Both devices fire at every slot; the bus lock keeps their frames apart (no garbled answers)."""
    import asyncio

    from gateway.modbus import PollerGroup, PollResult, rtu_inter_frame_delay_s

    results: list[PollResult] = []
    enough = asyncio.Event()

    async def collect(r: PollResult) -> None:
        results.append(r)
        if sum(1 for x in results if x.device == "flow") >= 5 and sum(
                1 for x in results if x.device == "meter") >= 5:
            enough.set()

    async with Simulator(_rtu_sim(speed=60)) as sim:
        bus = SerialBusConfig(name="rs485", port=sim.client_port("rs485"), baudrate=BAUD)
        rtu = {"type": "rtu", "bus": "rs485"}
        group = PollerGroup(devices=[
            gateway_device("meter", METER, rtu, unit_id=1, poll_interval_s=0.5),
            gateway_device("flow", FLOW, rtu, unit_id=5, poll_interval_s=0.5,
                           profile_options={"byte_order": "CDAB"})], buses=[bus], on_result=collect)
        assert len(group.links) == 1  # one link, one lock for the bus
        assert group.links["rtu:rs485"].inter_frame_delay_s == rtu_inter_frame_delay_s(baudrate=BAUD)
        async with group:
            await asyncio.wait_for(enough.wait(), timeout=60)
        status = group.status()
    assert all(r.ok and not r.quality for r in results), [r.error for r in results if not r.ok]
    assert status["meter"].errors == 0 and status["flow"].errors == 0
    # both on the same slots: each slot has one reading of each device
    slots = {d: {round(r.ts_ms / 500) for r in results if r.device == d} for d in ("meter", "flow")}
    assert len(slots["meter"] & slots["flow"]) >= 4


def test_rtu_inter_frame_delay_is_three_and_a_half_characters() -> None:
    from gateway.modbus import rtu_inter_frame_delay_s

    assert rtu_inter_frame_delay_s(baudrate=9600) == pytest.approx(3.5 * 10 / 9600)  # 3.65 ms
    assert rtu_inter_frame_delay_s(baudrate=9600, parity="E") == pytest.approx(3.5 * 11 / 9600)
    assert rtu_inter_frame_delay_s(baudrate=115200) == 0.00175


async def test_a_silent_device_on_the_bus_does_not_garble_its_neighbour() -> None:
    """The silent device costs bus time (its timeout) but every frame of the good one decodes."""
    import asyncio

    from gateway.modbus import PollerGroup, PollResult, PollSettings

    cfg = sim_config(
        [{"name": "meter", "profile": METER, "transport": {"type": "rtu", "bus": "rs485"}, "unit_id": 1,
          **SERIES[DeviceKind.ELECTRICITY_METER]},
         {"name": "dead", "profile": FLOW, "transport": {"type": "rtu", "bus": "rs485"}, "unit_id": 5,
          "faults": {"timeout": 1.0}}],
        buses=[{"name": "rs485", "port": "auto", "baudrate": BAUD}], speed=60)
    results: list[PollResult] = []
    enough = asyncio.Event()

    async def collect(r: PollResult) -> None:
        results.append(r)
        if sum(1 for x in results if x.device == "meter") >= 6:
            enough.set()

    async with Simulator(cfg) as sim:
        bus = SerialBusConfig(name="rs485", port=sim.client_port("rs485"), baudrate=BAUD)
        rtu = {"type": "rtu", "bus": "rs485"}
        group = PollerGroup(devices=[
            gateway_device("meter", METER, rtu, unit_id=1, poll_interval_s=0.5),
            gateway_device("dead", FLOW, rtu, unit_id=5, poll_interval_s=0.5, timeout_s=0.2, retries=0)],
            buses=[bus], on_result=collect, settings=PollSettings(offline_after=2, offline_retry_s=1))
        async with group:
            await asyncio.wait_for(enough.wait(), timeout=60)
        status = group.status()
        served = sim.devices["meter"].served()
    meter = [r for r in results if r.device == "meter"]
    assert all(r.ok and not r.quality for r in meter)
    assert set(meter[-1].values) == {q for q, r in served.items() if r.quality is None}
    assert status["meter"].online and status["meter"].errors == 0
    assert not status["dead"].online and status["dead"].errors >= 2
