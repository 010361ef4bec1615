"""End to end on the simulated factory floor (``gateway.simulator``), real Mosquitto.

TCP and RTU (a pseudo-terminal pair) devices; values cross-checked with Debian's
``mbpoll``; setpoints on a simulated Victron ESS battery that follows its register.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from gateway.profiles import load_profile
from gateway.service import GatewayService
from gateway.simulator import Simulator, load_simulator_config
from nzd.config import load_gateway_config
from nzd.messages import AckResult, Setpoint, Telemetry, encode
from nzd.topics import setpoint_topic
from tests.gateway.service.support import Subscriber, publish, until
from tests.harness import MosquittoServer, free_ports, require_binary

METER_W = 12_345.5
OFFICE_W = 456.25
BATTERY_UNIT = 227


def sim_config(tmp_path: Path, *, meter_port: int, battery_port: int) -> Path:
    cfg = {
        "simulator": {"speed": 1, "seed": 3, "tick_s": 0.2},
        "buses": [{"name": "rs485-1", "port": "auto", "baudrate": 19200}],
        "devices": [
            {"name": "main-meter", "profile": "eastron_sdm630", "unit_id": 1, "noise_pct": 0,
             "transport": {"type": "tcp", "host": "127.0.0.1", "port": meter_port},
             "values": {"active_power_w": METER_W}},
            {"name": "battery", "profile": "victron_ess", "unit_id": BATTERY_UNIT, "noise_pct": 0,
             "transport": {"type": "tcp", "host": "127.0.0.1", "port": battery_port},
             "battery": {"capacity_kwh": 200, "max_power_kw": 30, "soc_pct": 55}},
            {"name": "office-meter", "profile": "eastron_sdm120", "unit_id": 7, "noise_pct": 0,
             "transport": {"type": "rtu", "bus": "rs485-1"}, "values": {"active_power_w": OFFICE_W}},
        ],
    }
    path = tmp_path / "sim.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def gateway_config(tmp_path: Path, *, broker_port: int, meter_port: int, battery_port: int,
                   serial_port: str) -> Path:
    tcp: Callable[[int], dict[str, Any]] = lambda port: {"type": "tcp", "host": "127.0.0.1", "port": port}  # noqa: E731
    cfg = {
        "gateway": "gw-sim", "district": "prato", "site": "depuratore",
        "broker": {"host": "127.0.0.1", "port": broker_port},
        "buffer": {"path": str(tmp_path / "gw.sqlite"), "confirm": False},  # no ingest here
        "buses": [{"name": "rs485-1", "port": serial_port, "baudrate": 19200}],
        "devices": [
            {"name": "main-meter", "profile": "eastron_sdm630", "transport": tcp(meter_port), "unit_id": 1},
            {"name": "battery", "profile": "victron_ess", "transport": tcp(battery_port),
             "unit_id": BATTERY_UNIT},
            {"name": "office-meter", "profile": "eastron_sdm120", "unit_id": 7, "timeout_s": 2,
             "transport": {"type": "rtu", "bus": "rs485-1"}},
        ],
        "assets": [{"name": "battery", "device": "battery", "point": "battery_power_setpoint_w",
                    "min_value": -5000, "max_value": 5000, "fallback": {"value": 0}}],
    }
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def mbpoll_f32(args: list[str], *, address: int) -> float:
    """One float (big-endian words, i.e. ABCD) from input registers, read by mbpoll."""
    out = subprocess.run([require_binary("mbpoll", "mbpoll"), *args, "-t", "3:float", "-B", "-0",
                          "-r", str(address), "-c", "1", "-1"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    match = re.search(rf"\[{address}\]:\s+(-?[0-9.eE+-]+)", out)
    assert match, out
    return float(match.group(1))


def power_address(profile: str) -> int:
    return next(p.address for p in load_profile(profile).resolve({}) if p.quantity == "active_power_w")


def latest(telemetry: list[Telemetry], device: str, quantity: str) -> float | None:
    values = [m.values[quantity] for m in telemetry if m.device == device and quantity in m.values]
    return values[-1] if values else None


async def test_tcp_and_rtu_devices_agree_with_mbpoll_and_the_battery_follows_setpoints(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory()
    meter_port, battery_port = free_ports(2)
    sim = Simulator(load_simulator_config(sim_config(tmp_path, meter_port=meter_port,
                                                     battery_port=battery_port)))
    await sim.start()
    serial_port = sim.client_port("rs485-1")
    cfg = load_gateway_config(gateway_config(tmp_path, broker_port=broker.port, meter_port=meter_port,
                                             battery_port=battery_port, serial_port=serial_port))
    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"])
    service = GatewayService(config=cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))

    def send(sp: Setpoint) -> None:
        publish(broker.port, setpoint_topic(district="prato", site="depuratore", asset="battery"), encode(sp))

    def ack(id_: int | None, result: AckResult) -> Callable[[], bool]:
        return lambda: any(a.setpoint_id == id_ and a.result is result for a in sub.acks())

    now = time.time_ns() // 1_000_000
    try:
        await until(lambda: all(latest(sub.telemetry(), d, "active_power_w") is not None
                                for d in ("main-meter", "office-meter")), timeout_s=30,
                    what="telemetry over TCP and RTU")
        # An independent Modbus master reads the same TCP device.
        tcp_args = ["-m", "tcp", "-p", str(meter_port), "-a", "1", "127.0.0.1"]
        by_mbpoll = await asyncio.to_thread(mbpoll_f32, tcp_args, address=power_address("eastron_sdm630"))
        assert latest(sub.telemetry(), "main-meter", "active_power_w") == by_mbpoll == METER_W
        assert latest(sub.telemetry(), "office-meter", "active_power_w") == OFFICE_W

        # Setpoints on the simulated battery: 3 kW discharge, valid for 8 s.
        await asyncio.to_thread(send, Setpoint(id=1, asset="battery", quantity="battery_power_setpoint_w",
                                               value=3000, valid_from=now - 1000, valid_until=now + 8000,
                                               issued_at=now))
        await until(ack(1, AckResult.APPLIED), timeout_s=15, what="applied ack")
        assert next(a for a in sub.acks() if a.setpoint_id == 1).value == 3000
        await until(lambda: latest(sub.telemetry(), "battery", "battery_power_w") == 3000, timeout_s=15,
                    what="the simulated battery discharging at 3 kW")
        await asyncio.to_thread(send, Setpoint(id=2, asset="battery", quantity="battery_power_setpoint_w",
                                               value=9000, valid_from=now - 1000, valid_until=now + 8000,
                                               issued_at=now))
        await until(ack(2, AckResult.REJECTED), timeout_s=15, what="rejected ack")
        await asyncio.to_thread(send, Setpoint(id=3, asset="battery", quantity="battery_power_setpoint_w",
                                               value=-2000, valid_from=now - 9000, valid_until=now - 5000,
                                               issued_at=now))
        await until(ack(3, AckResult.EXPIRED), timeout_s=15, what="expired ack")
        assert latest(sub.telemetry(), "battery", "battery_power_w") == 3000
        assert await service.group.poller("battery").read_point("battery_power_setpoint_w") == 3000

        # Validity ends with no new setpoint: the watchdog idles the battery.
        await until(ack(None, AckResult.FALLBACK), timeout_s=20, what="fallback ack")
        assert next(a for a in sub.acks() if a.result is AckResult.FALLBACK).value == 0
        await until(lambda: latest(sub.telemetry(), "battery", "battery_power_w") == 0, timeout_s=15,
                    what="the simulated battery idle")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        await asyncio.to_thread(sub.close)
    try:
        # With the gateway off the bus, mbpoll reads the RTU device too and agrees.
        rtu_args = ["-m", "rtu", "-b", "19200", "-P", "none", "-a", "7", serial_port]
        office = await asyncio.to_thread(mbpoll_f32, rtu_args, address=power_address("eastron_sdm120"))
        assert office == OFFICE_W
    finally:
        await sim.stop()
