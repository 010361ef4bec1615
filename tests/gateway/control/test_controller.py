"""The controller when the device does not answer: failed acks, fallback retried with a pause."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from gateway.control import AssetState, SetpointController, SetpointStateStore
from gateway.delivery import DiskWorker
from gateway.modbus import PollerGroup
from gateway.service import GroupPointWriter
from nzd.config import AssetConfig, DeviceConfig, FallbackConfig, TcpTransport
from nzd.messages import Ack, AckResult, Setpoint, encode
from nzd.topics import setpoint_topic
from tests.gateway.service.support import BATTERY_PROFILE
from tests.harness import free_port


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_an_unreachable_device_gets_failed_acks_and_the_fallback_is_retried_after_a_pause(
        tmp_path: Path) -> None:
    profile = tmp_path / "battery.yaml"
    profile.write_text(yaml.safe_dump(BATTERY_PROFILE))
    # Nothing listens on this port: every write fails with a connection error.
    device = DeviceConfig(name="inverter", profile=str(profile), timeout_s=0.5,
                          transport=TcpTransport(host="127.0.0.1", port=free_port()))
    asset = AssetConfig(name="battery", device="inverter", point="battery_power_setpoint_w",
                        min_value=-5000, max_value=5000, fallback=FallbackConfig(value=0))
    acks: list[Ack] = []

    async def send_ack(ack: Ack) -> None:
        acks.append(ack)

    disk = DiskWorker()
    store = SetpointStateStore(path=tmp_path / "gw.sqlite")
    group = PollerGroup(devices=[device])
    controller = SetpointController(assets=[asset], writer=GroupPointWriter(group), store=store, disk=disk,
                                    send_ack=send_ack)
    await controller.start()
    try:
        now = now_ms()
        sp = Setpoint(id=1, asset="battery", quantity="battery_power_setpoint_w", value=1000,
                      valid_from=now - 1000, valid_until=now + 60_000, issued_at=now)
        await controller.handle(setpoint_topic(district="d", site="s", asset="battery"), encode(sp))
        assert [(a.setpoint_id, a.result) for a in acks] == [(1, AckResult.FAILED)]
        assert "write failed" in (acks[0].reason or "")

        # A setpoint in force has just ended: the watchdog tries the fallback, fails, and waits.
        controller.state["battery"] = AssetState(last_id=0, last_value=1000.0, last_write_ms=now - 5000,
                                                 active_until_ms=now - 1)
        await controller.tick()
        await controller.tick()
        assert controller.counts["fallback_failed"] == 1
        assert not any(a.result is AckResult.FALLBACK for a in acks)
        assert controller.state["battery"].fallback_applied is False
    finally:
        await group.stop()
        store.close()
        disk.close()
