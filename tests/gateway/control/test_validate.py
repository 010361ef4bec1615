"""The local checks a setpoint must pass; limits come from the gateway's config only."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway.control import AssetState, Decision, SetpointStateStore, judge
from nzd.config import AssetConfig, FallbackConfig
from nzd.messages import Setpoint

NOW = 1_764_000_000_000
ASSET = AssetConfig(name="battery", device="inverter", point="battery_power_setpoint_w",
                    min_value=-50_000, max_value=50_000, max_ramp_per_s=10_000,
                    fallback=FallbackConfig(value=0))


def sp(value: float, *, id_: int = 5, start: int = NOW - 1000, end: int = NOW + 60_000,
       quantity: str = "battery_power_setpoint_w", asset: str = "battery") -> Setpoint:
    return Setpoint(id=id_, asset=asset, quantity=quantity, value=value, valid_from=start,
                    valid_until=end, issued_at=NOW)


def test_a_valid_setpoint_is_applied() -> None:
    assert judge(sp(20_000), asset=ASSET, state=AssetState(), now_ms=NOW).decision is Decision.APPLY


def test_unknown_asset_wrong_quantity_and_limits_are_rejected_with_a_reason() -> None:
    unknown = judge(sp(1, asset="pump"), asset=None, state=AssetState(), now_ms=NOW)
    assert (unknown.decision, "unknown asset" in unknown.reason) == (Decision.REJECT, True)
    wrong = judge(sp(1, quantity="pv_power_limit_w"), asset=ASSET, state=AssetState(), now_ms=NOW)
    assert wrong.decision is Decision.REJECT
    high = judge(sp(50_001), asset=ASSET, state=AssetState(), now_ms=NOW)
    assert high.decision is Decision.REJECT
    assert "-50000.0..50000.0" in high.reason


def test_ids_expiry_and_future_windows() -> None:
    applied = AssetState(last_id=5, last_value=0.0, last_write_ms=NOW - 600_000)
    assert judge(sp(1, id_=5), asset=ASSET, state=applied, now_ms=NOW).decision is Decision.DUPLICATE
    assert judge(sp(1, id_=4), asset=ASSET, state=applied, now_ms=NOW).decision is Decision.REJECT
    assert judge(sp(1, id_=6, end=NOW), asset=ASSET, state=applied, now_ms=NOW).decision is Decision.EXPIRED
    later = judge(sp(1, id_=6, start=NOW + 5000), asset=ASSET, state=applied, now_ms=NOW)
    assert later.decision is Decision.WAIT


def test_the_ramp_limit_counts_from_the_last_value_written() -> None:
    recent = AssetState(last_id=1, last_value=0.0, last_write_ms=NOW - 2000)  # 2 s at 10 kW/s
    assert judge(sp(20_000), asset=ASSET, state=recent, now_ms=NOW).decision is Decision.APPLY
    steep = judge(sp(20_001), asset=ASSET, state=recent, now_ms=NOW)
    assert steep.decision is Decision.REJECT
    assert "ramp" in steep.reason


@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
       offset_ms=st.integers(min_value=-100_000, max_value=100_000))
def test_nothing_outside_the_limits_or_the_window_is_ever_applied(value: float, offset_ms: int) -> None:
    now = NOW + offset_ms
    verdict = judge(sp(value), asset=ASSET, state=AssetState(), now_ms=now)
    if verdict.decision is Decision.APPLY:
        assert ASSET.min_value <= value <= ASSET.max_value
        assert NOW - 1000 <= now < NOW + 60_000


def test_state_survives_a_restart(tmp_path: Path) -> None:
    store = SetpointStateStore(path=tmp_path / "gw.sqlite")
    store.save("battery", AssetState(last_id=7, last_value=-3000.0, last_write_ms=NOW,
                                     active_until_ms=NOW + 1))
    store.close()
    again = SetpointStateStore(path=tmp_path / "gw.sqlite")
    assert again.load() == {"battery": AssetState(7, -3000.0, NOW, NOW + 1, False)}
    again.close()
