"""Setpoint ids, unique by construction: ``issued_at_ms << 20 | sender << 16 | n``.

``sender`` tells the coordinator's setpoints from the API's (manual ones), and ``n`` counts
setpoints issued in the same millisecond by one process (65,536 of them; beyond, the next
millisecond is borrowed). So no two setpoints share an id: not two manual setpoints sent at
once, not a plan's and an operator's. Ids still fit the contract's integer (``issued_at`` up to
the year 2248) and grow with time, so gateways that order by id keep working; current ones
order by ``issued_at`` and use the id only to recognise a redelivery (docs/dispatch.md).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["SetpointIdAllocator", "SetpointSender"]

_SEQ_BITS = 16
_SENDER_BITS = 4
_TIME_SHIFT = _SEQ_BITS + _SENDER_BITS
_MAX_ID = 2**63 - 1


class SetpointSender(IntEnum):
    COORDINATOR = 0
    API = 1


class SetpointIdAllocator:
    """Strictly increasing, unique ids for one sending process (not thread-safe: call it from
    one event loop)."""

    def __init__(self, *, sender: SetpointSender) -> None:
        self._sender = int(sender) << _SEQ_BITS
        self._last = -1

    def next(self, *, issued_at_ms: int) -> int:
        candidate = (issued_at_ms << _TIME_SHIFT) | self._sender
        if candidate <= self._last:  # the same millisecond (or the clock stepped back): count on
            candidate = self._last + 1
            if candidate & ((1 << _SEQ_BITS) - 1) == 0:  # the counter is full: borrow the next ms
                candidate = (((self._last >> _TIME_SHIFT) + 1) << _TIME_SHIFT) | self._sender
        if candidate > _MAX_ID:
            raise ValueError(f"issued_at {issued_at_ms} is too far in the future for a setpoint id")
        self._last = candidate
        return candidate
