"""Which span of time a reading may change the energy of.

Energy per interval comes from the counter readings that bound it, linear in time between them
(nzd.accounting.counters), and a reading also decides whether the one before it was a spike
(nzd.accounting.counter_rules: an increase is accepted once the next reading confirms it). So a
reading that arrives in order, after the device's newest, changes only the intervals from the
device's reading before last up to itself. A reading out of order (a gateway's replay), or the
first the API sees of a device, may change anything within ``REACH_MS`` of it: that is how far
api/counters.py looks outside a window for the readings that bound it.
"""

from __future__ import annotations

from api.counters import REACH_MS

__all__ = ["REACH_MS", "ReadingReach"]


class ReadingReach:
    """The last two reading times per device, as the live subscription saw them."""

    def __init__(self, *, max_devices: int = 100_000) -> None:
        self.max_devices = max_devices
        self._seen: dict[tuple[str, str], tuple[int, int]] = {}

    def span(self, site: str, device: str, ts_ms: int) -> tuple[int, int]:
        """``(lo, hi)``: the readings' times between which energy may change (inclusive)."""
        before = self._seen.get((site, device))
        if before is not None and ts_ms > before[1]:
            self._seen[(site, device)] = (before[1], ts_ms)
            return before[0], ts_ms
        if before is None:
            if len(self._seen) >= self.max_devices:  # bounded: forgetting only widens spans
                self._seen.clear()
            self._seen[(site, device)] = (ts_ms, ts_ms)
        return ts_ms - REACH_MS, ts_ms + REACH_MS

    def clear(self) -> None:
        self._seen.clear()
