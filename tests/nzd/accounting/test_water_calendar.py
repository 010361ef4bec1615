"""Declared night shifts read back from events: registry plus declarations, the newest word wins."""

from __future__ import annotations

from datetime import date

from nzd.accounting.water_calendar import declared_night_shifts, night_shift_key
from nzd.store import Event, EventKind


def shift(night: date, ts_ms: int, *, declared: bool = True) -> Event:
    return Event(EventKind.STATUS, "d", "rossi", ts_ms, night_shift_key(night),
                 {"night": night.isoformat(), "declared": declared, "user": "rossi"})


def test_declarations_add_to_the_registry_and_withdrawals_remove_from_it() -> None:
    a, b, c = date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6)
    events = [shift(b, 10), shift(b, 20, declared=False), shift(c, 5), shift(a, 30, declared=False),
              Event(EventKind.STATUS, "d", "rossi", 1, "night-shift:not-a-date", {}),
              Event(EventKind.STATUS, "d", "rossi", 1, "water-severity", {"water_severity": "high"})]
    # a: in the registry but withdrawn; b: declared then withdrawn; c: declared.
    assert declared_night_shifts(events, registry=[a]) == {c}
    assert declared_night_shifts(reversed(events), registry=[a]) == {c}  # order of reading does not matter
