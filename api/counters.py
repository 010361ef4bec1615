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

import numpy as np
import numpy.typing as npt

from nzd.store.base import Series, TelemetryStore

__all__ = ["DEFAULT_RAW_SPAN_MS", "REACH_MS", "CounterReadings", "counter_readings", "counter_series"]

DEFAULT_RAW_SPAN_MS = 2 * 86_400_000
_BUCKET_S = 900
_DAY_S = 86_400
REACH_MS = 7 * 86_400_000
"""How far outside a window the readings that bound it are looked for."""


@dataclass(slots=True)
class CounterReadings:
    times_ms: list[int]
    values: list[float]
    flagged: list[bool]


_Chunk = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]


def _add(out: dict[tuple[str, str, str], list[_Chunk]], series: list[Series],
         quantities: Sequence[str], devices: Collection[str] | None, *, only: str | None = None) -> None:
    """Each series' present values as arrays, appended in order: a later chunk's reading replaces
    an earlier one's at the same time (see :func:`_merge`)."""
    for s in series:
        if devices is not None and s.device not in devices:
            continue
        times = np.asarray(s.times_ms, dtype=np.int64)
        for q in quantities:
            values, flags = s.values.get(q, []), s.flags.get(q, [])
            if len(values) != len(times) or len(flags) != len(times):
                raise ValueError(f"{s.site}/{s.device}: {q} has {len(values)} values and {len(flags)} flags "
                                 f"for {len(times)} times")
            present = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
            idx = np.flatnonzero(present)
            if only == "last":
                idx = idx[-1:]
            elif only == "first":
                idx = idx[:1]
            if idx.size == 0:
                continue
            v = np.array([values[i] for i in idx.tolist()], dtype=np.float64)
            bad = np.fromiter((flags[i] is not None for i in idx.tolist()), dtype=bool, count=idx.size)
            out.setdefault((s.site, s.device, q), []).append((times[idx], v, bad))


def _merge(chunks: list[_Chunk]) -> CounterReadings:
    """Sorted by time; at a time held by several chunks, the last chunk's reading."""
    t = np.concatenate([c[0] for c in chunks])
    order = np.argsort(t, kind="stable")
    ts = t[order]
    last = np.ones(ts.shape, dtype=bool)
    last[:-1] = ts[1:] != ts[:-1]
    sel = order[last]
    v = np.concatenate([c[1] for c in chunks])[sel]
    bad = np.concatenate([c[2] for c in chunks])[sel]
    return CounterReadings(t[sel].tolist(), v.tolist(), bad.tolist())


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
    found: dict[tuple[str, str, str], list[_Chunk]] = {}
    # Three independent reads: issued together, the request waits for the slowest, not the sum.
    main, before, after = await asyncio.gather(
        store.counter_bounds(district=district, site=site, quantities=quantities,
                             start_ms=start_ms, end_ms=end_ms + 1, every_s=every_s),
        store.counter_bounds(district=district, site=site, quantities=quantities,
                             start_ms=start_ms - REACH_MS, end_ms=start_ms, every_s=_DAY_S),
        store.counter_bounds(district=district, site=site, quantities=quantities,
                             start_ms=end_ms + 1, end_ms=end_ms + REACH_MS, every_s=_DAY_S))
    _add(found, main, quantities, devices)
    _add(found, before, quantities, devices, only="last")
    _add(found, after, quantities, devices, only="first")
    return {key: _merge(chunks) for key, chunks in found.items()}


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
