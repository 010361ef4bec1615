"""Setpoints from targets, ids per asset, and the acknowledgement bookkeeping."""

from __future__ import annotations

import pytest

from coordinator.dispatch import (
    AckOutcome,
    AckTracker,
    AssetKey,
    ManualOverrides,
    SetpointIds,
    Target,
    build_setpoints,
    controllable_assets,
    validity_window,
)
from nzd.config import load_district
from nzd.messages import Ack, AckResult, Setpoint, SetpointSource

T0 = 1_790_000_000_000


def _setpoint(asset: str, sp_id: int) -> Setpoint:
    return Setpoint(id=sp_id, asset=asset, quantity="battery_power_setpoint_w", value=1.0,
                    valid_from=T0, valid_until=T0 + 1800_000, issued_at=T0)


def _ack(asset: str, sp_id: int | None, result: AckResult) -> Ack:
    return Ack(setpoint_id=sp_id, asset=asset, result=result, ts=T0)


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_setpoints_are_valid_from_the_interval_start_for_the_window():
    ids = SetpointIds()
    valid_from, valid_until = validity_window(interval_start_ms=T0, sent_at_ms=T0 + 1234,
                                              interval_ms=900_000, validity_ms=1_800_000)
    out = build_setpoints(targets=[Target("a", "bat", "battery_power_setpoint_w", -5000.0)],
                          valid_from_ms=valid_from, valid_until_ms=valid_until, issued_at_ms=T0 + 1234,
                          ids=ids, plan_id="p1")
    [(site, sp)] = out
    assert site == "a"
    assert (sp.asset, sp.quantity, sp.value) == ("bat", "battery_power_setpoint_w", -5000.0)
    assert (sp.valid_from, sp.valid_until, sp.issued_at) == (T0, T0 + 1_800_000, T0 + 1234)
    assert sp.plan_id == "p1"


def test_ids_are_unique_increase_and_keep_increasing_after_a_restart():
    ids = SetpointIds()
    a = AssetKey("s", "a")
    first = ids.next(a, issued_at_ms=T0)
    second = ids.next(a, issued_at_ms=T0)  # same millisecond: still larger
    other = ids.next(AssetKey("s", "b"), issued_at_ms=T0)
    assert first < second < other and first >> 20 == T0
    restarted = SetpointIds()  # a new process knows nothing but the clock
    assert restarted.next(a, issued_at_ms=T0 + 1000) > other


def test_a_late_plan_counts_its_window_from_the_interval_it_is_sent_in():
    # Solved 2.5 intervals late: not born expired, and still ends two intervals after sending began.
    assert validity_window(interval_start_ms=T0, sent_at_ms=T0 + 2_500, interval_ms=1_000,
                           validity_ms=2_000) == (T0, T0 + 4_000)


def test_a_window_must_not_be_empty():
    with pytest.raises(ValueError, match="validity_ms"):
        validity_window(interval_start_ms=T0, sent_at_ms=T0, interval_ms=1000, validity_ms=0)
    with pytest.raises(ValueError, match="empty validity window"):
        build_setpoints(targets=[], valid_from_ms=T0, valid_until_ms=T0, issued_at_ms=T0, ids=SetpointIds())


def test_applied_rejected_and_silent_assets():
    clock = Clock()
    tracker = AckTracker(ack_timeout_s=10.0, clock=clock)
    for asset, sp_id in (("ok", 1), ("no", 2), ("mute", 3)):
        tracker.sent("s", _setpoint(asset, sp_id))
    clock.now_s = 1.5
    applied = tracker.on_ack("s", _ack("ok", 1, AckResult.APPLIED))
    rejected = tracker.on_ack("s", _ack("no", 2, AckResult.REJECTED))
    assert applied.outcome is AckOutcome.APPLIED and applied.latency_s == 1.5
    assert rejected.outcome is AckOutcome.REJECTED and rejected.setpoint is not None
    assert tracker.expire() == []  # not yet timed out
    clock.now_s = 10.0
    [silent] = tracker.expire()
    assert (silent.key, silent.outcome) == (AssetKey("s", "mute"), AckOutcome.NO_ANSWER)
    assert tracker.excluded() == {AssetKey("s", "no"), AssetKey("s", "mute")}
    assert tracker.pending == 0


@pytest.mark.parametrize("result", [AckResult.EXPIRED, AckResult.FAILED])
def test_expired_and_failed_exclude_too(result):
    tracker = AckTracker(ack_timeout_s=10.0)
    tracker.sent("s", _setpoint("x", 1))
    tracker.on_ack("s", _ack("x", 1, result))
    assert tracker.excluded() == {AssetKey("s", "x")}


def test_a_later_applied_setpoint_includes_the_asset_again_but_an_older_answer_does_not():
    tracker = AckTracker(ack_timeout_s=10.0)
    tracker.sent("s", _setpoint("x", 1))
    tracker.sent("s", _setpoint("x", 2))
    tracker.on_ack("s", _ack("x", 2, AckResult.REJECTED))
    tracker.on_ack("s", _ack("x", 1, AckResult.APPLIED))  # late news about an older setpoint
    assert tracker.excluded() == {AssetKey("s", "x")}
    tracker.sent("s", _setpoint("x", 3))
    tracker.on_ack("s", _ack("x", 3, AckResult.APPLIED))
    assert tracker.excluded() == frozenset()


def test_a_fallback_ack_is_recorded_without_excluding():
    tracker = AckTracker(ack_timeout_s=10.0)
    res = tracker.on_ack("s", _ack("x", None, AckResult.FALLBACK))
    assert res.outcome is AckOutcome.FALLBACK and res.setpoint is None
    assert tracker.last_outcomes() == {AssetKey("s", "x"): AckOutcome.FALLBACK}
    assert tracker.excluded() == frozenset()


def test_an_ack_for_a_setpoint_never_sent_is_still_resolved():
    tracker = AckTracker(ack_timeout_s=10.0)
    res = tracker.on_ack("s", _ack("x", 99, AckResult.REJECTED))
    assert res.setpoint is None and res.latency_s is None
    assert tracker.excluded() == {AssetKey("s", "x")}


def test_controllable_assets_of_the_example_district():
    district = load_district("firmware_configs/examples/district.yaml")
    found = {(a.key.site, a.key.asset): (a.quantity, a.fallback_value) for a in controllable_assets(district)}
    assert found == {
        ("tintoria-rossi", "dye-batch"): ("load_power_setpoint_w", None),
        ("depuratore", "community-battery"): ("battery_power_setpoint_w", 0.0),
        ("depuratore", "recycled-pump"): ("pump_flow_setpoint_m3h", None),
    }


def test_manual_setpoints_hold_their_asset_only_while_valid():
    from nzd.messages import SetpointSource

    overrides = ManualOverrides()
    manual = Setpoint(id=5, asset="bat", quantity="battery_power_setpoint_w", value=1.0, valid_from=T0,
                      valid_until=T0 + 1000, issued_at=T0, source=SetpointSource.MANUAL)
    overrides.seen("s", manual)
    overrides.seen("s", _setpoint("other", 7))  # a plan setpoint holds nothing
    assert overrides.active(now_ms=T0 + 999) == {AssetKey("s", "bat")}
    assert overrides.active(now_ms=T0 + 1000) == frozenset()


def test_the_newest_manual_setpoint_by_issue_time_holds_whatever_its_id():
    overrides = ManualOverrides()
    def manual(sp_id: int, issued_at: int, until: int) -> Setpoint:
        return Setpoint(id=sp_id, asset="bat", quantity="battery_power_setpoint_w", value=0.0,
                        valid_from=issued_at, valid_until=until, issued_at=issued_at,
                        source=SetpointSource.MANUAL)
    overrides.seen("s", manual(2**63 - 1, T0, T0 + 1000))
    overrides.seen("s", manual(5, T0 + 10, T0 + 20))  # issued later: replaces the huge id
    assert overrides.active(now_ms=T0 + 15) == {AssetKey("s", "bat")}
    assert overrides.active(now_ms=T0 + 500) == frozenset()
