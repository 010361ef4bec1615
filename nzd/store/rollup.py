"""Counter rollups on InfluxDB: the first and the last reading of every 15 minutes, at their own times.

Energy from a counter is the difference of the readings that bound an interval, so a rollup
that moved a reading to its bucket's start or end would move energy between intervals. The
selectors ``bottom("seq", 1)`` and ``top("seq", 1)`` keep the time of the point they pick
(InfluxQL's ``first``/``last`` report the bucket's start instead), and ``seq`` grows in time
order per device (docs/gateway.md), so they pick the bucket's first and last reading; the
counters and the quality flags of that reading come along as ``bound_<field>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nzd.messages import DeviceKind
from nzd.quantities import QUANTITIES, QuantityKind
from nzd.store.base import Aggregation, Series
from nzd.store.influx_http import InfluxHttp
from nzd.store.influx_lines import parse_quality
from nzd.store.lineprotocol import quote_ident

__all__ = ["BOUND_PREFIX", "ROLLUP_STEP_S", "all_kinds", "bounds_select", "counter_fields",
           "history_selects", "influx_counter_bounds"]

BOUND_PREFIX = "bound_"
ROLLUP_STEP_S = 900
_QUALITY = "nzd_quality"


def counter_fields() -> list[str]:
    """Every counter quantity of the vocabulary: what the rollup keeps at the bounds."""
    return sorted(q.name for q in QUANTITIES.values() if q.kind is QuantityKind.COUNTER)


def bounds_select(*, selector: str, sources: str, fields: list[str], prefix_in: str, prefix_out: str,
                  every_s: int, into: str | None = None, where: str = "",
                  group_tags: str = "*") -> str:
    """``SELECT top|bottom(seq) ... GROUP BY time(every_s)``: one reading per bucket and device.

    ``prefix_in`` names the source fields (``""`` on raw data, ``bound_`` on the rollup),
    ``prefix_out`` the results.
    """
    if selector not in ("top", "bottom"):
        raise ValueError(f"selector must be top or bottom, got {selector!r}")
    cols = [f'{selector}({quote_ident(prefix_in + "seq")}, 1) AS {quote_ident(prefix_out + "seq")}']
    cols += [f"{quote_ident(prefix_in + f)} AS {quote_ident(prefix_out + f)}" for f in [*fields, _QUALITY]]
    clause = f" WHERE {where}" if where else ""
    into_clause = f" INTO {into}" if into else ""
    return (f"SELECT {', '.join(cols)}{into_clause} FROM {sources}{clause} "
            f"GROUP BY time({int(every_s)}s), {group_tags}")


def all_kinds(database: str, policy: str) -> str:
    db = quote_ident(database)
    return ", ".join(f"{db}.{quote_ident(policy)}.{quote_ident(k.value)}" for k in DeviceKind)


_Row = dict[str, tuple[float | None, str | None]]


def _collect(results: list[dict[str, Any]], quantities: Sequence[str],
             into: dict[tuple[str, str, str], dict[int, _Row]]) -> None:
    for res in results:
        for s in res.get("series", []):
            key = (s["tags"]["site"], s["tags"]["device"], s["name"])
            idx = {c: i for i, c in enumerate(s["columns"])}
            for row in s["values"]:
                flags = parse_quality(row[idx[_QUALITY]]) if _QUALITY in idx else {}
                values: _Row = {}
                for q in quantities:
                    v = row[idx[q]] if q in idx else None
                    if v is not None and not isinstance(v, str | bool):
                        values[q] = (float(v), flags.get(q))
                if values:
                    into.setdefault(key, {})[int(row[0])] = values


async def influx_counter_bounds(
    http: InfluxHttp, *, database: str, rollup_policy: str | None, where: str,
    quantities: Sequence[str], start_ms: int, end_ms: int, every_s: int | None, now_ms: int,
) -> list[Series]:
    """InfluxStore.counter_bounds: raw readings, or the bounds of each bucket from the rollup up to
    the last bucket the continuous queries have certainly written, from raw data after it."""
    fields = list(dict.fromkeys(quantities))
    sources = ",".join(quote_ident(k.value) for k in DeviceKind)
    group = '"site", "device"'
    found: dict[tuple[str, str, str], dict[int, _Row]] = {}

    def window(lo: int, hi: int) -> str:
        return f"{where} AND time >= {int(lo)}ms AND time < {int(hi)}ms"

    if every_s is None:
        cols = ", ".join(quote_ident(q) for q in [*fields, _QUALITY])
        res = await http.query(f"SELECT {cols} FROM {sources} WHERE {window(start_ms, end_ms)} "
                               f"GROUP BY {group}")
        _collect(res, fields, found)
    else:
        step_ms = int(every_s) * 1000
        # The continuous queries rewrite the last 30 minutes every 15: older buckets are final.
        cutoff = start_ms
        if rollup_policy is not None and step_ms % (ROLLUP_STEP_S * 1000) == 0:
            cutoff = min(end_ms, max(start_ms, (now_ms // (ROLLUP_STEP_S * 1000) - 1) * ROLLUP_STEP_S * 1000))
        parts: list[str] = []
        for sel in ("bottom", "top"):
            if cutoff > start_ms and rollup_policy is not None:
                parts.append(bounds_select(selector=sel, sources=all_kinds(database, rollup_policy),
                                           fields=fields, prefix_in=BOUND_PREFIX, prefix_out="",
                                           every_s=every_s, where=window(start_ms, cutoff), group_tags=group))
            if end_ms > cutoff:
                parts.append(bounds_select(selector=sel, sources=sources,
                                           fields=fields, prefix_in="", prefix_out="", every_s=every_s,
                                           where=window(cutoff, end_ms), group_tags=group))
        _collect(await http.query("; ".join(parts)), fields, found)
    out: list[Series] = []
    for (site, device, kind), by_time in sorted(found.items()):
        times = sorted(by_time)
        rows = [by_time[t] for t in times]
        out.append(Series(site=site, device=device, kind=DeviceKind(kind), times_ms=times,
                          values={q: [r[q][0] if q in r else None for r in rows] for q in fields},
                          flags={q: [r[q][1] if q in r else None for r in rows] for q in fields}))
    return out


_ROLLUP_OF = {Aggregation.MEAN: ("mean", "mean_"), Aggregation.MAX: ("max", "max_"),
              Aggregation.MIN: ("min", "min_"), Aggregation.LAST: ("last", "last_")}


def history_selects(*, database: str, rollup_policy: str | None, kinds: Sequence[DeviceKind], where: str,
                    quantities: Sequence[str], start_ms: int, end_ms: int, every_s: int,
                    aggregation: Aggregation, rollup_after_ms: int, now_ms: int) -> list[str]:
    """InfluxStore.history per ``every_s`` bucket: over a span longer than ``rollup_after_ms``
    (and buckets of whole quarter hours) the 15-minute rollups up to the last bucket the
    continuous query has certainly written, raw readings only for the recent rest. A mean of
    the 15-minute means weighs each quarter hour alike (exact for regular readings)."""
    func, prefix = _ROLLUP_OF[aggregation]
    group = f'GROUP BY time({int(every_s)}s), "site", "device" fill(none)'
    step_ms = int(every_s) * 1000
    cutoff = start_ms
    if (rollup_policy is not None and every_s % ROLLUP_STEP_S == 0
            and end_ms - start_ms > rollup_after_ms):
        written = (now_ms // (ROLLUP_STEP_S * 1000) - 1) * ROLLUP_STEP_S * 1000
        cutoff = min(end_ms, max(start_ms, written // step_ms * step_ms))
    out: list[str] = []
    if cutoff > start_ms and rollup_policy is not None:
        db, rp = quote_ident(database), quote_ident(rollup_policy)
        sources = ",".join(f"{db}.{rp}.{quote_ident(k.value)}" for k in kinds)
        cols = ", ".join(f"{func}({quote_ident(prefix + q)}) AS {quote_ident(q)}" for q in quantities)
        out.append(f"SELECT {cols} FROM {sources} WHERE {where} AND time >= {int(start_ms)}ms "
                   f"AND time < {int(cutoff)}ms {group}")
    if end_ms > cutoff:
        sources = ",".join(quote_ident(k.value) for k in kinds)
        cols = ", ".join(f"{func}({quote_ident(q)}) AS {quote_ident(q)}" for q in quantities)
        out.append(f"SELECT {cols} FROM {sources} WHERE {where} AND time >= {int(cutoff)}ms "
                   f"AND time < {int(end_ms)}ms {group}")
    return out
