"""Live state from telemetry: newest wins, stale values are not used."""

from __future__ import annotations

from coordinator.state import LiveState
from nzd.messages import DeviceKind, GatewayState, GatewayStatus, Telemetry
from tests.coordinator.service.helpers import small_district

T0 = 1_790_000_000_000


def _reading(ts: int, soc: float, *, replayed: bool = False) -> Telemetry:
    return Telemetry(ts=ts, seq=0, device="bat-inv", kind=DeviceKind.BATTERY,
                     values={"battery_soc_pct": soc}, replayed=replayed)


def test_the_newest_reading_wins_over_a_replayed_older_one():
    state = LiveState(district=small_district("d"), stale_after_s=60)
    state.on_telemetry("a", _reading(T0, 70.0))
    state.on_telemetry("a", _reading(T0 - 5000, 40.0, replayed=True))
    assert state.snapshot(now_ms=T0).battery_soc_pct == {("a", "battery"): 70.0}


def test_stale_values_fall_back_to_the_registry():
    state = LiveState(district=small_district("d"), stale_after_s=60)
    state.on_telemetry("a", _reading(T0, 70.0))
    later = T0 + 61_000
    snap = state.snapshot(now_ms=later)
    assert snap.battery_soc_pct == {} and snap.stale == ["a/battery"]
    assert state.district_now(now_ms=later).site("a").batteries[0].soc_initial_pct == 50.0


def test_live_values_are_clamped_into_the_asset_limits():
    state = LiveState(district=small_district("d"), stale_after_s=60)
    state.on_telemetry("a", _reading(T0, 99.0))  # above soc_max_pct 95
    assert state.district_now(now_ms=T0).site("a").batteries[0].soc_initial_pct == 95.0


def test_grid_meters_and_gateways():
    state = LiveState(district=small_district("d"), stale_after_s=60)
    state.on_telemetry("a", Telemetry(ts=T0, seq=1, device="meter-a", kind=DeviceKind.ELECTRICITY_METER,
                                      values={"active_power_w": 1234.0}))
    state.on_status("a", GatewayStatus(gateway="gw-a", state=GatewayState.OFFLINE, ts=T0))
    snap = state.snapshot(now_ms=T0)
    assert snap.grid_power_w == {"a": 1234.0}
    assert snap.gateways_online == {("a", "gw-a"): False}
