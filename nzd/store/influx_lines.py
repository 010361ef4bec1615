"""Readings and events as InfluxDB line protocol, and the series keys InfluxDB answers with.

The hot path of ingest (``reading_line``) lives here, apart from the store's queries: measurement
and tags of a device are built once and cached (a district has a bounded set of devices), field
keys are checked against the reserved names (``nzd.store.is_reserved_quantity``) and escaped.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Sequence

import orjson

from nzd.messages import DeviceKind
from nzd.store.base import Event, Reading, is_reserved_quantity
from nzd.store.lineprotocol import LineProtocolError, escape_name, escape_string_field, line

__all__ = ["NS_PER_MS", "QUALITY_FIELD", "REPLAYED_FIELD", "SEQ_FIELD", "event_slots", "parse_quality",
           "parse_series_key", "reading_line"]

SEQ_FIELD = "seq"
QUALITY_FIELD = "nzd_quality"
REPLAYED_FIELD = "nzd_replayed"
NS_PER_MS = 1_000_000
_SEQ, _QUALITY, _REPLAYED = SEQ_FIELD, QUALITY_FIELD, REPLAYED_FIELD
_HEADS: dict[tuple[str, str, str, str], str] = {}
_MAX_HEADS = 100_000


@functools.lru_cache(maxsize=4096)
def _field_key(name: str) -> str:
    if is_reserved_quantity(name):
        raise LineProtocolError(f"quantity name {name!r} is reserved (a tag key, time, seq or nzd_...)")
    return escape_name(name, what="field key")


def _head(r: Reading) -> str:
    """Measurement and tags, cached: a district has a bounded set of devices."""
    key = (r.kind, r.district, r.site, r.device)
    head = _HEADS.get(key)
    if head is None:
        head = line(DeviceKind(r.kind).value, {"district": r.district, "site": r.site, "device": r.device},
                    {_SEQ: 0}, 0).rsplit(" ", 2)[0]
        if len(_HEADS) < _MAX_HEADS:
            _HEADS[key] = head
    return head


def reading_line(r: Reading) -> str:
    """One reading as a line of protocol (time in ms); the hot path of ingest."""
    parts = []
    for q, v in r.values.items():
        f = float(v)
        if not math.isfinite(f):
            raise LineProtocolError(f"field {q!r} is {f!r}; only finite numbers can be stored")
        parts.append(f"{_field_key(q)}={f!r}")
    parts.append(f"{_SEQ}={int(r.seq)}i")
    if r.quality:
        parts.append(f"{_QUALITY}={escape_string_field(orjson.dumps(r.quality).decode())}")
    if r.replayed:
        parts.append(f"{_REPLAYED}=true")
    return f"{_head(r)} {','.join(parts)} {int(r.ts_ms)}"


def event_slots(events: Sequence[Event]) -> list[int]:
    """Nanosecond timestamps: ts_ms plus an offset from the key, distinct within a batch."""
    taken: set[tuple[str, str, str, int]] = set()
    out: list[int] = []
    for e in events:
        offset = zlib.crc32(e.key.encode("utf-8", "surrogatepass")) % NS_PER_MS
        while True:
            ident = (e.kind.value, e.district, e.site, e.ts_ms * NS_PER_MS + offset)
            if ident not in taken:
                break
            offset = (offset + 1) % NS_PER_MS
        taken.add(ident)
        out.append(ident[3])
    return out


def parse_quality(document: object) -> dict[str, str]:
    """The ``nzd_quality`` field (JSON, quantity -> flag); anything else is no flags."""
    if not isinstance(document, str):
        return {}
    try:
        parsed = orjson.loads(document)
    except orjson.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def parse_series_key(key: str) -> tuple[str, dict[str, str]]:
    """``measurement,tag=value,...`` as SHOW SERIES gives it (line-protocol escapes) -> name, tags."""
    fields: list[list[str]] = [[""]]  # per comma-separated piece: the parts around its first "="
    i = 0
    while i < len(key):
        ch = key[i]
        if ch == "\\" and i + 1 < len(key):
            fields[-1][-1] += key[i + 1]
            i += 2
            continue
        if ch == ",":
            fields.append([""])
        elif ch == "=" and len(fields) > 1 and len(fields[-1]) == 1:
            fields[-1].append("")
        else:
            fields[-1][-1] += ch
        i += 1
    tags = {piece[0]: piece[1] for piece in fields[1:] if len(piece) == 2}
    return fields[0][0], tags
