"""Hourly zonal prices (Pz, EUR/MWh) in the store: the TIP of shared energy depends on them.

One PRICE event per clock hour (district-wide, site ``*``, keyed by the hour's start);
a price pushed again for the same hour replaces the earlier one (the newest push wins).
They come from a CSV file (``nzd prices import``) or through the API
(``PUT /api/v1/district/prices``). Hours without a price take the registry's
``settlement.zonal_price_eur_per_mwh``.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nzd.store.base import Event, EventKind, TelemetryStore

__all__ = ["MAX_PRICE_EUR_PER_MWH", "hourly_prices", "read_price_csv", "write_prices"]

HOUR_MS = 3_600_000
MAX_PRICE_EUR_PER_MWH = 10_000.0
"""Above any price the Italian day-ahead market allows: a larger figure is a unit mistake."""


def _check(hour_ms: int, price: float) -> str | None:
    if hour_ms % HOUR_MS:
        return "must be the start of a clock hour"
    if not math.isfinite(price) or not -MAX_PRICE_EUR_PER_MWH <= price <= MAX_PRICE_EUR_PER_MWH:
        return f"must be a number within +-{MAX_PRICE_EUR_PER_MWH:g} EUR/MWh"
    return None


def read_price_csv(path: str | Path) -> list[tuple[int, float]]:
    """``time,eur_per_mwh`` rows (time: ISO 8601 with an offset, or epoch ms, at the start of the hour).
    An error names the file, the line and the field."""
    path = Path(path)
    out: list[tuple[int, float]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"time", "eur_per_mwh"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            text = (row["time"] or "").strip()
            try:
                if text.isdigit():
                    hour_ms = int(text)
                else:
                    when = datetime.fromisoformat(text)
                    if when.tzinfo is None:
                        raise ValueError("needs a UTC offset, e.g. 2026-06-01T00:00:00+02:00")
                    hour_ms = round(when.timestamp() * 1000)
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: time: {exc}") from None
            try:
                price = float(row["eur_per_mwh"])
            except (TypeError, ValueError):
                bad = row["eur_per_mwh"]
                raise ValueError(f"{path}:{line}: eur_per_mwh: {bad!r} is not a number") from None
            problem = _check(hour_ms, price)
            if problem:
                field = "time" if "clock hour" in problem else "eur_per_mwh"
                raise ValueError(f"{path}:{line}: {field}: {problem}")
            out.append((hour_ms, price))
    if not out:
        raise ValueError(f"{path}: no prices")
    return out


async def write_prices(store: TelemetryStore, *, district: str, prices: Sequence[tuple[int, float]],
                       source: str) -> int:
    """Store one event per hour; returns how many. Raises ValueError on a bad hour or price."""
    now_ms = int(time.time() * 1000)
    events = []
    for hour_ms, price in prices:
        problem = _check(int(hour_ms), float(price))
        if problem:
            raise ValueError(f"{hour_ms}: {problem}")
        events.append(Event(EventKind.PRICE, district, "*", int(hour_ms), str(int(hour_ms)),
                            {"eur_per_mwh": float(price), "source": source, "set_at_ms": now_ms}))
    if events:
        await store.write_events(events)
    return len(events)


async def hourly_prices(store: TelemetryStore, *, district: str,
                        hour_start_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The stored price of each hour (NaN where none), the newest push per hour."""
    out = np.full(hour_start_ms.size, np.nan)
    if hour_start_ms.size == 0:
        return out
    events = await store.events(EventKind.PRICE, district=district, start_ms=int(hour_start_ms.min()),
                                end_ms=int(hour_start_ms.max()) + 1, limit=50_000)
    newest: dict[int, tuple[int, float]] = {}
    for e in events:
        set_at = int(e.document.get("set_at_ms", 0))
        if e.ts_ms not in newest or set_at >= newest[e.ts_ms][0]:
            newest[e.ts_ms] = (set_at, float(e.document["eur_per_mwh"]))
    index = {int(t): i for i, t in enumerate(hour_start_ms)}
    for hour_ms, (_, price) in newest.items():
        if hour_ms in index:
            out[index[hour_ms]] = price
    return out
