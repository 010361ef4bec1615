"""Query parameters shared by the history, energy and KPI routes: a period and an interval."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Query

from api.problems import ProblemError
from nzd.clock import district_clock

__all__ = ["LONG_SPAN_MS", "FromQuery", "IntervalQuery", "ToQuery", "parse_interval_s", "resolve_period"]

_DAY_MS = 86_400_000
_INTERVAL = re.compile(r"^([1-9][0-9]{0,5})(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SPAN_MS = 400 * _DAY_MS
LONG_SPAN_MS = 20 * 366 * _DAY_MS
"""Monthly and yearly rows (the long view, docs/reports.md) may span up to 20 years."""
MAX_POINTS = 20_000

FromQuery = Annotated[datetime | None, Query(
    alias="from", description="Start (ISO 8601 with a time zone); default: `to` minus 24 hours",
    examples=["2026-11-24T00:00:00Z"])]
ToQuery = Annotated[datetime | None, Query(
    alias="to", description="End, exclusive (ISO 8601 with a time zone); default: now",
    examples=["2026-11-25T00:00:00Z"])]
IntervalQuery = Annotated[str | None, Query(
    description="Bucket width: a number and s, m, h or d (`15m`, `1h`); omitted: raw values",
    examples=["15m"], max_length=8)]


def _ms(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ProblemError(422, f"query.{name}: needs a time zone, e.g. 2026-11-24T00:00:00Z",
                           title="Invalid request")
    try:
        return int(value.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        raise ProblemError(422, f"query.{name}: out of range") from None


def resolve_period(from_: datetime | None, to: datetime | None, *, default_span_ms: int = _DAY_MS,
                   max_span_ms: int | None = None) -> tuple[int, int]:
    """``[start_ms, end_ms)``, checked: start before end, at most ``max_span_ms`` (default ~400
    days), within 2000..2200."""
    end_ms = _ms(to, "to") if to is not None else district_clock().now_ms()
    start_ms = _ms(from_, "from") if from_ is not None else end_ms - default_span_ms
    if start_ms >= end_ms:
        raise ProblemError(422, "query.from: must be before 'to'")
    limit_ms = MAX_SPAN_MS if max_span_ms is None else max_span_ms
    if end_ms - start_ms > limit_ms:
        raise ProblemError(422, f"query.to: the period may span at most {limit_ms // _DAY_MS} days")
    if start_ms < 946_684_800_000 or end_ms > 7_258_118_400_000:
        raise ProblemError(422, "query.from: the period must lie between the years 2000 and 2200")
    return start_ms, end_ms


def parse_interval_s(interval: str | None, *, span_ms: int, required: bool = False) -> int | None:
    if interval is None:
        if required:
            raise ProblemError(422, "query.interval: required here, e.g. 15m or 1h")
        return None
    m = _INTERVAL.fullmatch(interval)
    if m is None:
        raise ProblemError(422, f"query.interval: {interval!r} is not a duration like 30s, 15m, 1h or 1d")
    seconds = int(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds > 31 * 86400:
        raise ProblemError(422, "query.interval: at most 31 days")
    if span_ms // (seconds * 1000) > MAX_POINTS:
        raise ProblemError(422, f"query.interval: {interval} over this period gives more than "
                                f"{MAX_POINTS} points; choose a wider interval")
    return seconds
