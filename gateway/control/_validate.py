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

__all__ = ["MAX_ISSUE_AHEAD_MS", "Decision", "Verdict", "is_older", "judge"]


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


MAX_ISSUE_AHEAD_MS = 60_000
"""How far a setpoint's ``issued_at`` may lie ahead of the gateway's clock (clock skew)."""


def is_older(setpoint: Setpoint, *, issued_ms: int | None, sp_id: int) -> bool:
    """Whether ``setpoint`` was issued before the one identified by ``issued_ms`` and ``sp_id``.

    Ordered by issue time, the id breaking ties; ids are unique, not an order between senders.
    A state from before issue times were kept (``issued_ms`` None) falls back to the id.
    """
    if issued_ms is None:
        return setpoint.id < sp_id
    return (setpoint.issued_at, setpoint.id) < (issued_ms, sp_id)


def judge(setpoint: Setpoint, *, asset: AssetConfig | None, state: AssetState, now_ms: int) -> Verdict:
    """The first rule a setpoint breaks, or APPLY / WAIT."""
    if asset is None:
        return Verdict(Decision.REJECT, f"unknown asset {setpoint.asset!r} on this gateway")
    if setpoint.quantity != asset.point:
        return Verdict(Decision.REJECT,
                       f"asset {asset.name!r} takes {asset.point}, not {setpoint.quantity}")
    if state.last_id is not None and setpoint.id == state.last_id:
        return Verdict(Decision.DUPLICATE, f"setpoint {setpoint.id} was already applied")
    if setpoint.issued_at > now_ms + MAX_ISSUE_AHEAD_MS:
        # Ordering is by issue time: a setpoint from the future would outrank every later one.
        return Verdict(Decision.REJECT, f"issued at {setpoint.issued_at}, in the future (now {now_ms})")
    if state.last_id is not None and is_older(setpoint, issued_ms=state.last_issued_ms, sp_id=state.last_id):
        return Verdict(Decision.REJECT, f"setpoint {setpoint.id} is older than setpoint {state.last_id}, "
                                        "applied already")
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
