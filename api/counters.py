"""Readings of cumulative counters (totalisers, production counters) around a period, for the
per-interval accounting of nzd.accounting: raw readings for short periods, the last value of
each 15-minute bucket for long ones."""

from __future__ import annotations

from collections.abc import Collection

from nzd.store.base import Aggregation, TelemetryStore

__all__ = ["counter_readings"]

_RAW_MAX_MS = 2 * 86_400_000
_STEP_S = 900


async def counter_readings(
    store: TelemetryStore, *, district: str, site: str, quantity: str, devices: Collection[str],
    start_ms: int, end_ms: int,
) -> dict[str, tuple[list[int], list[float]]]:
    """``device -> (times_ms, values)`` of ``quantity`` from one step before ``start_ms`` to
    ``end_ms``; devices without readings are absent."""
    raw = end_ms - start_ms <= _RAW_MAX_MS
    series = await store.history(
        district=district, site=site, quantities=[quantity], start_ms=start_ms - _STEP_S * 1000,
        end_ms=end_ms + 1, every_s=None if raw else _STEP_S, aggregation=Aggregation.LAST)
    shift_ms = 0 if raw else _STEP_S * 1000  # a bucket's last value stands for its end
    out: dict[str, tuple[list[int], list[float]]] = {}
    for s in series:
        if s.device not in devices:
            continue
        pairs = [(t + shift_ms, v) for t, v in zip(s.times_ms, s.values[quantity], strict=True)
                 if v is not None]
        if pairs:
            out[s.device] = ([p[0] for p in pairs], [p[1] for p in pairs])
    return out
