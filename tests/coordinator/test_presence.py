"""Offline alarms from presence: when a device or a gateway is offline, once, and when it is back."""

from __future__ import annotations

from coordinator.presence import MAX_GATEWAYS_PER_SITE, Presence, PresenceSettings
from nzd.config import DistrictConfig
from nzd.messages import (
    Alert,
    DeviceKind,
    DeviceState,
    GatewayState,
    GatewayStatus,
    Quality,
    Telemetry,
)

T0_MS = 1_781_672_400_000  # Wed 17 Jun 2026 07:00 Europe/Rome


def district() -> DistrictConfig:
    return DistrictConfig.model_validate({
        "district": "d", "timezone": "Europe/Rome",
        "sites": [{"id": "tintoria", "name": "Tintoria Rossi",
                   "meters": [{"device": "grid-meter", "role": "grid"},
                              {"device": "sub-meter", "role": "load"}]}],
    })


def reading(device: str, ts_ms: int, *, answered: bool = True) -> Telemetry:
    if not answered:  # what a gateway publishes for a cycle the device did not answer
        return Telemetry(ts=ts_ms, seq=ts_ms // 1000, device=device, kind=DeviceKind.ELECTRICITY_METER,
                         values={}, quality={"active_power_w": Quality.COMM_ERROR})
    return Telemetry(ts=ts_ms, seq=ts_ms // 1000, device=device, kind=DeviceKind.ELECTRICITY_METER,
                     values={"active_power_w": 1000.0})


def status(state: GatewayState, ts_ms: int, **devices: DeviceState) -> GatewayStatus:
    return GatewayStatus(gateway="gw-1", state=state, ts=ts_ms, devices=devices,
                         reason=None if state is GatewayState.ONLINE else "connection lost")


def ok(ts_ms: int) -> DeviceState:
    return DeviceState(online=True, last_read_ts=ts_ms, poll_interval_s=2.0)


def watch(**settings: float) -> Presence:
    return Presence(district=district(), settings=PresenceSettings(**settings), now_mono=0.0, now_ms=T0_MS)


def publish(p: Presence, now_mono: float) -> list[Alert]:
    out = p.changes(now_mono=now_mono)
    for a in out:
        p.published(a)
    return out


def test_a_silent_device_raises_once_after_n_polls_and_clears_with_its_next_reading() -> None:
    p = watch(silent_polls=5)
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS, **{"grid-meter": ok(T0_MS),
                                                                   "sub-meter": ok(T0_MS)}), now_mono=0.0)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 1000), now_mono=1.0)
    p.on_telemetry("tintoria", reading("sub-meter", T0_MS + 1000), now_mono=1.0)
    # sub-meter keeps reading; grid-meter stops after its reading at t=1 s (polls every 2 s).
    for t in range(3, 12, 2):
        p.on_telemetry("tintoria", reading("sub-meter", T0_MS + t * 1000), now_mono=float(t))
        p.on_telemetry("tintoria", reading("grid-meter", T0_MS + t * 1000, answered=False), now_mono=float(t))
    assert publish(p, 10.9) == []  # 9.9 s < 5 polls x 2 s
    raised = publish(p, 11.1)
    assert [(a.kind, a.device, a.active, a.severity.value) for a in raised] == [
        ("device_offline", "grid-meter", True, "warning")]
    alert = raised[0]
    assert alert.ts == T0_MS + 1000  # since its last reading
    assert alert.site == "tintoria"
    assert alert.message.startswith(
        "The device grid-meter of Tintoria Rossi has sent no reading since Wed 17 Jun 07:00")
    assert "5 polls (one every 2 s)" in alert.message
    p.on_telemetry("tintoria", reading("sub-meter", T0_MS + 59_000), now_mono=59.0)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 59_000, answered=False), now_mono=59.0)
    assert publish(p, 60.0) == []  # once, not every round
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 61_000), now_mono=61.0)
    cleared = publish(p, 61.5)
    assert [(a.id, a.active, a.ts) for a in cleared] == [(alert.id, False, T0_MS + 61_000)]
    assert "sends readings again since Wed 17 Jun 07:01" in cleared[0].message
    assert publish(p, 62.0) == []


def test_a_device_its_gateway_reports_failing_raises_at_once_with_the_gateways_reason() -> None:
    p = watch(silent_polls=5)
    failing = DeviceState(online=False, last_read_ts=T0_MS, errors=3, detail="Modbus timeout",
                          poll_interval_s=2)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS), now_mono=0.0)
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS + 6000, **{"grid-meter": failing}),
                now_mono=6.0)
    raised = publish(p, 6.1)
    assert [(a.device, a.ts) for a in raised] == [("grid-meter", T0_MS)]
    assert "its gateway cannot read it: Modbus timeout" in raised[0].message
    # a periodic status saying the same raises nothing more
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS + 30_000, **{"grid-meter": failing}),
                now_mono=30.0)
    assert [a.device for a in publish(p, 30.1) if a.device == "grid-meter"] == []


def test_a_device_not_polled_yet_is_no_failure() -> None:
    p = watch(silent_polls=5)
    fresh = DeviceState(online=False, detail="not polled yet", poll_interval_s=2)
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS, **{"grid-meter": fresh, "sub-meter": fresh}),
                now_mono=0.0)
    assert publish(p, 1.0) == []


def test_a_gateway_offline_raises_after_the_grace_and_hides_its_devices_then_clears_when_back() -> None:
    p = watch(silent_polls=3, gateway_offline_after_s=5)
    devices = {"grid-meter": ok(T0_MS), "sub-meter": ok(T0_MS)}
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS, **devices), now_mono=0.0)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 9000), now_mono=9.0)
    p.on_telemetry("tintoria", reading("sub-meter", T0_MS + 9000), now_mono=9.0)
    # the will: its own ts is the connect's; since when = the last reading heard
    p.on_status("tintoria", status(GatewayState.OFFLINE, T0_MS, **devices), now_mono=10.0)
    assert publish(p, 14.9) == []  # within the grace, and its devices raise nothing
    raised = publish(p, 15.0)
    assert [(a.kind, a.device, a.severity.value, a.ts) for a in raised] == [
        ("gateway_offline", "gw-1", "critical", T0_MS + 9000)]
    assert raised[0].message.startswith(
        "The gateway gw-1 of Tintoria Rossi is offline since Wed 17 Jun 07:00 "
        "(connection lost): readings of its 2 devices do not reach nzd")
    assert publish(p, 100.0) == []  # devices silent for long: still only the gateway's alert
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS + 120_000, **devices), now_mono=120.0)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 121_000), now_mono=121.0)
    p.on_telemetry("tintoria", reading("sub-meter", T0_MS + 121_000), now_mono=121.0)
    cleared = publish(p, 121.5)
    assert [(a.id, a.active, a.ts) for a in cleared] == [(raised[0].id, False, T0_MS + 120_000)]
    assert "is back online since Wed 17 Jun 07:02" in cleared[0].message


def test_a_gateway_restarting_within_the_grace_raises_nothing() -> None:
    p = watch(silent_polls=3, gateway_offline_after_s=5)
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS, **{"grid-meter": ok(T0_MS)}), now_mono=0.0)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 1000), now_mono=1.0)
    p.on_telemetry("tintoria", reading("sub-meter", T0_MS + 1000), now_mono=1.0)
    p.on_status("tintoria", status(GatewayState.OFFLINE, T0_MS), now_mono=2.0)
    assert publish(p, 4.0) == []
    p.on_status("tintoria", status(GatewayState.ONLINE, T0_MS + 4000, **{"grid-meter": ok(T0_MS)}),
                now_mono=4.0)
    p.on_telemetry("tintoria", reading("grid-meter", T0_MS + 5000), now_mono=5.0)
    p.on_telemetry("tintoria", reading("sub-meter", T0_MS + 5000), now_mono=5.0)
    assert publish(p, 8.0) == []


def test_an_unpublished_alert_is_offered_again_and_a_restored_one_is_not_raised_twice() -> None:
    p = watch(silent_polls=2, default_poll_interval_s=10)
    first = p.changes(now_mono=21.0)  # never seen: both devices, from the start
    assert sorted(a.device or "" for a in first) == ["grid-meter", "sub-meter"]
    assert all("since nzd's coordinator started at Wed 17 Jun 07:00" in a.message for a in first)
    assert p.changes(now_mono=22.0) == first  # the broker did not take them: offered again
    # After a restart the store's active alerts are restored: nothing new is raised.
    again = watch(silent_polls=2, default_poll_interval_s=10)
    again.restore(first)
    assert again.changes(now_mono=30.0) == []
    again.on_telemetry("tintoria", reading("grid-meter", T0_MS + 31_000), now_mono=31.0)
    assert [(a.device, a.active) for a in again.changes(now_mono=31.0)] == [("grid-meter", False)]


def test_readings_of_devices_outside_the_registry_are_ignored() -> None:
    p = watch(silent_polls=2, default_poll_interval_s=10)
    p.on_telemetry("tintoria", reading("invented", T0_MS), now_mono=0.0)
    p.on_telemetry("elsewhere", reading("grid-meter", T0_MS), now_mono=0.0)
    assert sorted(a.device or "" for a in p.changes(now_mono=21.0)) == ["grid-meter", "sub-meter"]


def test_invented_gateway_names_are_bounded_per_site() -> None:
    p = watch(gateway_offline_after_s=0)
    for i in range(MAX_GATEWAYS_PER_SITE + 10):
        p.on_status("tintoria", GatewayStatus(gateway=f"gw-{i}", state=GatewayState.OFFLINE, ts=T0_MS),
                    now_mono=0.0)
    raised = [a for a in publish(p, 1.0) if a.kind == "gateway_offline"]
    assert len(raised) == MAX_GATEWAYS_PER_SITE
