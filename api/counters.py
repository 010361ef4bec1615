"""Readings of cumulative counters around a period, at the instants they were taken, for the
per-interval accounting of nzd.accounting (energy, water totalisers, production counters).

Up to ``raw_span_ms`` every reading is read; over longer periods the first and last reading of
each 15-minute bucket (the store's rollups). The readings that bound the period from outside
(the last before it, the first after it, up to a week away) come from daily bounds, so an
interval's energy does not depend on the window it is asked in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from nzd.store.base import Series, TelemetryStore

__all__ = ["DEFAULT_RAW_SPAN_MS", "CounterReadings", "counter_readings", "counter_series"]

DEFAULT_RAW_SPAN_MS = 2 * 86_400_000
_BUCKET_S = 900
_DAY_S = 86_400
_REACH_MS = 7 * 86_400_000


@dataclass(slots=True)
class CounterReadings:
    times_ms: list[int]
    values: list[float]
    flagged: list[bool]


def _add(out: dict[tuple[str, str, str], dict[int, tuple[float, bool]]], series: list[Series],
         quantities: Sequence[str], devices: Collection[str] | None, *, only: str | None = None) -> None:
    for s in series:
        if devices is not None and s.device not in devices:
            continue
        for q in quantities:
            values, flags = s.values.get(q, []), s.flags.get(q, [])
            pts = [(t, v, f is not None) for t, v, f in zip(s.times_ms, values, flags, strict=True)
                   if v is not None]
            if only == "last":
                pts = pts[-1:]
            elif only == "first":
                pts = pts[:1]
            for t, v, bad in pts:
                out.setdefault((s.site, s.device, q), {})[int(t)] = (float(v), bad)


async def counter_series(
    store: TelemetryStore, *, district: str, site: str | None, quantities: Sequence[str],
    devices: Collection[str] | None, start_ms: int, end_ms: int, raw_span_ms: int = DEFAULT_RAW_SPAN_MS,
    every_s: int | Literal["auto"] | None = "auto",
) -> dict[tuple[str, str, str], CounterReadings]:
    """``(site, device, quantity) -> readings`` in ``[start_ms, end_ms]`` plus the nearest reading
    on each side, for one site or (``site=None``) all; devices without readings are absent.
    ``every_s`` forces a resolution (None: raw)."""
    if every_s == "auto":
        every_s = None if end_ms - start_ms <= raw_span_ms else _BUCKET_S
    found: dict[tuple[str, str, str], dict[int, tuple[float, bool]]] = {}
    # Three independent reads: issued together, the request waits for the slowest, not the sum.
    main, before, after = await asyncio.gather(
        store.counter_bounds(district=district, site=site, quantities=quantities,
                             start_ms=start_ms, end_ms=end_ms + 1, every_s=every_s),
        store.counter_bounds(district=district, site=site, quantities=quantities,
                             start_ms=start_ms - _REACH_MS, end_ms=start_ms, every_s=_DAY_S),
        store.counter_bounds(district=district, site=site, quantities=quantities,
                             start_ms=end_ms + 1, end_ms=end_ms + _REACH_MS, every_s=_DAY_S))
    _add(found, main, quantities, devices)
    _add(found, before, quantities, devices, only="last")
    _add(found, after, quantities, devices, only="first")
    out: dict[tuple[str, str, str], CounterReadings] = {}
    for key, by_time in found.items():
        times = sorted(by_time)
        out[key] = CounterReadings(times, [by_time[t][0] for t in times], [by_time[t][1] for t in times])
    return out


async def counter_readings(
    store: TelemetryStore, *, district: str, site: str, quantity: str, devices: Collection[str],
    start_ms: int, end_ms: int, raw_span_ms: int = DEFAULT_RAW_SPAN_MS,
) -> dict[str, tuple[list[int], list[float]]]:
    """``device -> (times_ms, values)`` of ``quantity``'s good readings around the period."""
    found = await counter_series(store, district=district, site=site, quantities=[quantity],
                                 devices=devices, start_ms=start_ms, end_ms=end_ms, raw_span_ms=raw_span_ms)
    out: dict[str, tuple[list[int], list[float]]] = {}
    for (_, device, _), r in found.items():
        good = [(t, v) for t, v, bad in zip(r.times_ms, r.values, r.flagged, strict=True) if not bad]
        if good:
            out[device] = ([p[0] for p in good], [p[1] for p in good])
    return out
