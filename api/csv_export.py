"""CSV answers for the history and KPI routes: on ``Accept: text/csv`` or ``?format=csv``.

Timestamps (``*_ms`` fields) become ISO 8601 local times of the district with their UTC offset, so
that a spreadsheet reads them as the firm's clock shows them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

__all__ = ["CSV_RESPONSE", "CsvDep", "rows_csv", "series_csv"]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "JSON, or CSV with ISO local timestamps on Accept: text/csv or ?format=csv"}}


# A coroutine although it never waits: FastAPI runs a plain function in a worker thread (api/deps.py).
async def _wants_csv(request: Request, format: Annotated[Literal["json", "csv"] | None, Query(
        description="csv: answer text/csv (as does Accept: text/csv)")] = None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept.split("text/csv")[0]


CsvDep = Annotated[bool, Depends(_wants_csv)]


def _iso(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="seconds")


def _response(rows: list[list[Any]], filename: str) -> Response:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})


def rows_csv(rows: Sequence[BaseModel], *, columns: Sequence[str], tz: str, filename: str) -> Response:
    """One line per row; ``*_ms`` columns as local times (named without ``_ms``); nested fields left out."""
    zone = ZoneInfo(tz)
    data = [row.model_dump() for row in rows]
    # scalar columns only (nested details stay in JSON); a time given both ways once, as ISO
    kept = [c for c in columns if not any(isinstance(d[c], dict | list) for d in data)
            and not (c.endswith("_ms") and c.removesuffix("_ms") in columns)]
    lines: list[list[Any]] = [[c.removesuffix("_ms") for c in kept]]
    for d in data:
        lines.append([_iso(d[c], zone) if c.endswith("_ms") and d[c] is not None
                      else "" if d[c] is None else d[c] for c in kept])
    return _response(lines, filename)


def series_csv(series: Sequence[Any], *, tz: str, filename: str) -> Response:
    """Long format: time, device, then one column per quantity (a series' ``times_ms``, ``values``)."""
    zone = ZoneInfo(tz)
    quantities = sorted({q for s in series for q in s.values})
    lines: list[list[Any]] = [["time", "device", *quantities]]
    for s in series:
        for i, t in enumerate(s.times_ms):
            vals = [s.values[q][i] if q in s.values else None for q in quantities]
            lines.append([_iso(t, zone), s.device, *["" if v is None else v for v in vals]])
    return _response(lines, filename)
