"""Water events read back as calendars: declared night shifts per site and the district's
water-severity level in force per day. Pure functions over stored events (newest wins).

The API writes both; the coordinator (leak check) and the API (reports) read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

from nzd.config.district import WaterSeverity
from nzd.store.base import Event

__all__ = [
    "NIGHT_SHIFT_KEY_PREFIX",
    "NIGHT_SHIFT_LOOKBACK_DAYS",
    "WATER_SEVERITY_KEY",
    "declared_night_shifts",
    "night_shift_events",
    "night_shift_key",
    "severity_changes",
    "severity_per_day",
]

WATER_SEVERITY_KEY = "water-severity"
"""Key of the district-wide STATUS event holding the operator's level."""
NIGHT_SHIFT_KEY_PREFIX = "night-shift:"
"""STATUS events of a site keyed ``night-shift:YYYY-MM-DD``: {"night", "declared", "user"}."""
NIGHT_SHIFT_LOOKBACK_DAYS = 400
"""Declarations are read back this far: a night may be declared up to a year ahead, and the
event is stamped when it is declared."""


def night_shift_key(night: date) -> str:
    return f"{NIGHT_SHIFT_KEY_PREFIX}{night.isoformat()}"


def night_shift_events(events: Iterable[Event]) -> dict[date, Event]:
    """The newest night-shift event per night (a declaration or a withdrawal); bad keys skipped."""
    newest: dict[date, Event] = {}
    for e in events:
        if not e.key.startswith(NIGHT_SHIFT_KEY_PREFIX):
            continue
        try:
            night = date.fromisoformat(e.key.removeprefix(NIGHT_SHIFT_KEY_PREFIX))
        except ValueError:
            continue  # another writer's bad key must not stop leak detection
        if night not in newest or e.ts_ms > newest[night].ts_ms:
            newest[night] = e
    return newest


def declared_night_shifts(events: Iterable[Event], *, registry: Iterable[date] = ()) -> set[date]:
    """Nights declared as night shifts: the registry's, plus or minus the stored declarations
    (the newest event per night wins; ``declared: false`` withdraws one)."""
    nights = set(registry)
    for night, e in night_shift_events(events).items():
        if e.document.get("declared", True) is False:
            nights.discard(night)
        else:
            nights.add(night)
    return nights


def severity_changes(events: Iterable[Event]) -> list[tuple[int, WaterSeverity]]:
    """The operator's level changes ``(ts_ms, level)``, oldest first; invalid documents skipped."""
    levels = {s.value for s in WaterSeverity}
    out = [(e.ts_ms, WaterSeverity(e.document["water_severity"])) for e in events
           if e.key == WATER_SEVERITY_KEY and e.document.get("water_severity") in levels]
    return sorted(out, key=lambda c: c[0])


def severity_per_day(
    day_edges_ms: npt.ArrayLike, *, changes: Sequence[tuple[int, WaterSeverity]], default: WaterSeverity,
    now_ms: int | None = None,
) -> list[WaterSeverity]:
    """The level in force for each day ``[edges[k], edges[k+1])``: the last one set before the day
    ended (before ``now_ms`` for the day in progress), else ``default`` (the registry's).

    A level set during a day applies to that whole day, the day the ordinance was declared; a
    later change never rewrites a past day.
    """
    edges = np.asarray(day_edges_ms, dtype=np.int64)
    ordered = sorted(changes, key=lambda c: c[0])
    out: list[WaterSeverity] = []
    for end in edges[1:]:
        cut = int(end) if now_ms is None else min(int(end), now_ms + 1)
        level = default
        for ts, lvl in ordered:
            if ts < cut:
                level = lvl
            else:
                break
        out.append(level)
    return out
