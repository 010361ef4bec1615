"""Whether a setpoint may be applied: pure checks against the gateway's own config.

Limits and ramp rate come from :class:`~nzd.config.AssetConfig`, never from the
message: whoever sent it, a value outside what the local equipment allows is
refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.control._state import AssetState
from nzd.config import AssetConfig
from nzd.messages import Setpoint

__all__ = ["Decision", "Verdict", "judge"]


class Decision(StrEnum):
    APPLY = "apply"
    WAIT = "wait"
    """Valid later: held until ``valid_from``."""
    DUPLICATE = "duplicate"
    """The id last applied, delivered again (QoS 1): acknowledged, not written twice."""
    REJECT = "reject"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str = ""


def judge(setpoint: Setpoint, *, asset: AssetConfig | None, state: AssetState, now_ms: int) -> Verdict:
    """The first rule a setpoint breaks, or APPLY / WAIT."""
    if asset is None:
        return Verdict(Decision.REJECT, f"unknown asset {setpoint.asset!r} on this gateway")
    if setpoint.quantity != asset.point:
        return Verdict(Decision.REJECT,
                       f"asset {asset.name!r} takes {asset.point}, not {setpoint.quantity}")
    if state.last_id is not None:
        if setpoint.id == state.last_id:
            return Verdict(Decision.DUPLICATE, f"setpoint {setpoint.id} was already applied")
        if setpoint.id < state.last_id:
            return Verdict(Decision.REJECT,
                           f"stale id {setpoint.id}: setpoint {state.last_id} was applied already")
    if now_ms >= setpoint.valid_until:
        return Verdict(Decision.EXPIRED, f"validity ended at {setpoint.valid_until} (now {now_ms})")
    if not asset.min_value <= setpoint.value <= asset.max_value:
        return Verdict(Decision.REJECT, f"value {setpoint.value} outside the local limits "
                                        f"{asset.min_value}..{asset.max_value}")
    if now_ms < setpoint.valid_from:
        return Verdict(Decision.WAIT, f"valid from {setpoint.valid_from}")
    return ramp_verdict(value=setpoint.value, asset=asset, state=state, now_ms=now_ms)


def ramp_verdict(*, value: float, asset: AssetConfig, state: AssetState, now_ms: int) -> Verdict:
    """The ramp limit against the last value written; with none known, no limit applies."""
    if asset.max_ramp_per_s is None or state.last_value is None or state.last_write_ms is None:
        return Verdict(Decision.APPLY)
    elapsed_s = max(0.0, (now_ms - state.last_write_ms) / 1000.0)
    allowed = asset.max_ramp_per_s * elapsed_s
    step = abs(value - state.last_value)
    if step > allowed:
        return Verdict(Decision.REJECT, f"step {step:g} from {state.last_value:g} exceeds the ramp limit "
                                        f"{asset.max_ramp_per_s:g}/s ({allowed:g} in {elapsed_s:.1f} s)")
    return Verdict(Decision.APPLY)
