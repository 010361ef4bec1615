"""A device that times out, one that answers with exception codes and one that serves NaN:
the others keep their cadence, the faulty ones are reported and counted."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from gateway.modbus import PollerGroup, PollResult, PollSettings
from gateway.profiles import load_profile
from gateway.simulator import Faults, Simulator
from nzd.messages import Quality
from tests.gateway.simulator.support import SERIES, gateway_device, sim_config, tcp
from tests.harness import free_port, free_ports

METER = "eastron_sdm630"
INTERVAL_S = 0.5


def _errors(device: str, reason: str) -> float:
    return REGISTRY.get_sample_value("nzd_gateway_modbus_errors_total",
                                     {"device": device, "reason": reason}) or 0.0


async def test_faulty_devices_are_flagged_while_the_healthy_one_keeps_its_grid() -> None:
    names = ("good", "silent", "refusing", "nan")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    faults = {"good": {}, "silent": {"timeout": 1.0}, "refusing": {"exception_code": 4},
              "nan": {"nan": ["frequency_hz", "active_power_w"]}}
    series = SERIES[load_profile(METER).kind]
    cfg = sim_config([{"name": n, "profile": METER, "transport": tcp(p), "faults": faults[n], **series}
                      for n, p in ports.items()], speed=60)
    results: dict[str, list[PollResult]] = {n: [] for n in ports}

    enough = asyncio.Event()

    async def collect(r: PollResult) -> None:
        results[r.device].append(r)
        if len(results["good"]) >= 6 and results["silent"]:
            enough.set()

    devices = [gateway_device(n, METER, tcp(p), poll_interval_s=INTERVAL_S, timeout_s=0.2, retries=1)
               for n, p in ports.items()]
    before = _errors("silent", "timeout"), _errors("refusing", "exception")
    async with Simulator(cfg):
        group = PollerGroup(devices=devices, on_result=collect,
                            settings=PollSettings(offline_after=2, offline_retry_s=0.5))
        async with group:
            await asyncio.wait_for(enough.wait(), timeout=60)
        status = group.status()
        pollers = group.pollers

    # the devices that answer: one reading per grid slot, no slot skipped
    for name in ("good", "refusing", "nan"):
        slots = [round(r.ts_ms / 1000 / INTERVAL_S) for r in results[name]]
        assert slots == list(range(slots[0], slots[0] + len(slots))), name
        assert pollers[name].status.overruns == 0
    good = results["good"]
    assert all(r.ok and not r.quality for r in good)
    assert status["good"].online and status["good"].errors == 0

    # silent: offline, every quantity comm_error, timeouts counted (and exported)
    assert not status["silent"].online
    assert status["silent"].errors >= 2
    assert all(set(r.quality.values()) == {Quality.COMM_ERROR} and not r.values for r in results["silent"])
    assert pollers["silent"].status.errors_by_reason["timeout"] >= 2
    assert _errors("silent", "timeout") > before[0]

    # refusing: it answers, so it stays online, but every quantity is bad and each refusal counted
    assert status["refusing"].online
    assert results["refusing"] and all(set(r.quality.values()) == {Quality.BAD} for r in results["refusing"])
    assert pollers["refusing"].status.errors_by_reason["exception"] >= len(results["refusing"])
    assert _errors("refusing", "exception") > before[1]

    # NaN: the two quantities are flagged nan and left out of the values; the rest is good
    for r in results["nan"]:
        assert r.quality == {"frequency_hz": Quality.NAN, "active_power_w": Quality.NAN}
        assert "frequency_hz" not in r.values and "voltage_l1_v" in r.values
        assert r.telemetry(seq=1).quality["frequency_hz"] is Quality.NAN


async def test_an_offline_device_is_retried_later_and_comes_back() -> None:
    port = free_port()
    cfg = sim_config([{"name": "flaky", "profile": METER, "transport": tcp(port),
                       "faults": {"timeout": 1.0}}])
    seen: list[PollResult] = []
    back, failing = asyncio.Event(), asyncio.Event()

    async def collect(r: PollResult) -> None:
        seen.append(r)
        if len(seen) >= 3:
            failing.set()
        if r.ok:
            back.set()

    async with Simulator(cfg) as sim:
        group = PollerGroup(devices=[gateway_device("flaky", METER, tcp(port), poll_interval_s=0.1,
                                                    timeout_s=0.1, retries=0)],
                            on_result=collect, settings=PollSettings(offline_after=2, offline_retry_s=0.3))
        async with group:
            await asyncio.wait_for(failing.wait(), timeout=30)
            assert not group.status()["flaky"].online
            sim.set_faults("flaky", Faults())
            await asyncio.wait_for(back.wait(), timeout=30)
            state = group.status()["flaky"]
    assert state.online and state.last_read_ts == seen[-1].ts_ms
    assert state.errors >= 3
    # offline retries back off: fewer failed attempts than grid slots went by
    failed = [r for r in seen if not r.ok]
    span_slots = (failed[-1].ts_ms - failed[0].ts_ms) / 100
    assert len(failed) - 1 < span_slots


async def test_faults_apply_only_inside_their_window_of_simulated_time() -> None:
    port = free_port()
    # Simulated time runs at 60x from 11:00: the meter is silent from 11:02 to 11:04 (2 to 4 s in).
    faults = {"timeout": 1.0, "start": "2026-06-03T11:02:00+02:00", "end": "2026-06-03T11:04:00+02:00"}
    cfg = sim_config([{"name": "m", "profile": METER, "transport": tcp(port), "faults": faults,
                       **SERIES[load_profile(METER).kind]}], speed=60)
    window_s = (1_780_477_320, 1_780_477_440)  # 11:02 and 11:04 on 3 June 2026, +02:00
    results: list[tuple[float, PollResult]] = []  # (simulated time at the answer, result)
    done = asyncio.Event()
    device = gateway_device("m", METER, tcp(port), poll_interval_s=INTERVAL_S, timeout_s=0.2, retries=0)
    async with Simulator(cfg) as sim:

        async def collect(r: PollResult) -> None:
            results.append((sim.clock.now(), r))
            if len(results) > 2 and r.ok and not results[-2][1].ok:
                done.set()  # silent, then answering again

        group = PollerGroup(devices=[device], on_result=collect,
                            settings=PollSettings(offline_after=100, offline_retry_s=0.5))
        async with group:
            await asyncio.wait_for(done.wait(), timeout=60)
    assert results[0][1].ok and results[0][0] < window_s[0]  # before the window it answers
    silent = [(t, r) for t, r in results if not r.ok]
    assert silent and all(set(r.quality.values()) == {Quality.COMM_ERROR} for _, r in silent)
    # every unanswered cycle lies inside the window (slack after its end: a tick of 0.5 s real, 30 s
    # simulated, the 0.2 s timeout, 12 s simulated, and a busy machine's delays)
    assert all(window_s[0] <= t <= window_s[1] + 90 for t, _ in silent)
    assert all(r.ok for t, r in results if t < window_s[0])
    assert results[-1][1].ok and results[-1][0] >= window_s[1]
