"""What a setpoint's answer (applied, refused, fell back, timed out) leaves behind: the ACK event the
store keeps, and the progress of a flexible load, which has no meter of its own."""

from __future__ import annotations

from typing import Any

from coordinator.dispatch import AckOutcome, Resolution
from coordinator.load_progress import LoadProgress
from nzd.store.base import Event, EventKind

__all__ = ["ack_event", "track_load"]


def ack_event(res: Resolution, *, district: str, now_ms: int) -> Event:
    """The ACK event of ``res``: the gateway's acknowledgement if one came, else the outcome alone
    (a timeout) at ``now_ms``."""
    sp_id = res.ack.setpoint_id if res.ack else (res.setpoint.id if res.setpoint else None)
    ts_ms = res.ack.ts if res.ack else now_ms
    doc: dict[str, Any] = {"site": res.key.site, "asset": res.key.asset, "result": res.outcome.value,
                           "setpoint_id": sp_id}
    if res.ack is not None:
        doc.update(res.ack.model_dump(mode="json", exclude_none=True))
        doc["result"] = res.outcome.value
    return Event(EventKind.ACK, district, res.key.site, ts_ms, f"{res.key.asset}:{sp_id}", doc)


def track_load(loads: LoadProgress, res: Resolution, *, now_ms: int) -> None:
    """Flexible-load progress: what a load applied is what it runs; a fallback stops it."""
    key = res.key
    if not loads.is_load(site=key.site, asset=key.asset):
        return
    sp = res.setpoint
    if res.outcome is AckOutcome.APPLIED and sp is not None:
        power_w = res.ack.value if res.ack is not None and res.ack.value is not None else sp.value
        loads.applied(site=key.site, asset=key.asset, valid_from_ms=sp.valid_from,
                      valid_until_ms=sp.valid_until, power_w=power_w)
    elif res.outcome is AckOutcome.FALLBACK:
        at_ms = res.ack.ts if res.ack is not None else now_ms
        loads.stopped(site=key.site, asset=key.asset, at_ms=at_ms)
