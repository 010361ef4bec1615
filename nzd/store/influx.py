"""TelemetryStore on InfluxDB (1.x, 2.x through its v1 API, 3.x) over HTTP.

Schema: one measurement per device kind (``electricity_meter``, ``battery``...),
tags ``district``, ``site``, ``device``; fields are the quantities (floats) and
``seq`` (integer). Events go to the measurement ``nzd_events`` with tags
``kind``, ``district``, ``site`` and string fields ``key`` and ``document``
(JSON). Events share a millisecond without overwriting each other because each
is written at ``ts_ms`` plus a sub-millisecond offset derived from its key
(nanosecond precision); the same event written twice lands on the same point.
A reading's quality flags go, when it has any, into the string field
``nzd_quality`` (JSON, quantity -> flag) and a replayed reading carries the
boolean field ``nzd_replayed``. No quantity may be named like a tag, ``time``,
``seq`` or anything under ``nzd_`` (``nzd.store.is_reserved_quantity``): a field
named ``site`` would turn every ``WHERE "site" = ...`` of its shard into a
comparison with that field, and every site's data would vanish from queries.

Events are kept for good while raw telemetry expires (see ``nzd store init``):
they go to the retention policy ``events_retention_policy`` or, when that is
not given, to ``nzd_events`` if the database has a policy of that name, else to
the database's default policy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import orjson

from nzd.clock import district_clock
from nzd.messages import DeviceKind
from nzd.store.base import (
    RESERVED_FIELDS,
    Aggregation,
    Event,
    EventKind,
    Reading,
    Series,
    StoreError,
    StoreRejected,
    check_every_s,
)
from nzd.store.influx_http import InfluxHttp
from nzd.store.influx_lines import (
    NS_PER_MS,
    QUALITY_FIELD,
    REPLAYED_FIELD,
    SEQ_FIELD,
    event_slots,
    parse_quality,
    parse_series_key,
    reading_line,
)
from nzd.store.lineprotocol import (
    LineProtocolError,
    line,
    quote_ident,
    quote_string,
)
from nzd.store.rollup import history_selects, influx_counter_bounds

__all__ = ["EVENTS_MEASUREMENT", "EVENTS_RETENTION_POLICY", "InfluxStore", "parse_series_key", "reading_line"]

log = logging.getLogger(__name__)

EVENTS_MEASUREMENT = "nzd_events"
EVENTS_RETENTION_POLICY = "nzd_events"
ROLLUP_POLICY = "downsampled_15m"
_SEQ, _QUALITY, _REPLAYED = SEQ_FIELD, QUALITY_FIELD, REPLAYED_FIELD
_RESERVED = RESERVED_FIELDS
assert {_SEQ, _QUALITY, _REPLAYED} == RESERVED_FIELDS
_NS_PER_MS = NS_PER_MS
_ALL_KINDS = ",".join(quote_ident(k.value) for k in DeviceKind)


_SILENT_CHUNK = 100


class InfluxStore:
    """InfluxDB over its HTTP API; see :mod:`nzd.store.influx_http` for auth and retries."""

    def __init__(
        self,
        *,
        url: str,
        database: str = "nzd",
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        create_database: bool = True,
        max_batch_points: int = 5000,
        timeout_s: float = 10.0,
        retry_total_s: float = 30.0,
        gzip_level: int | None = 1,
        on_retry: Callable[[str], None] | None = None,
        events_retention_policy: str | None = None,
        rollup_after_s: float = 48 * 3600.0,
    ) -> None:
        self.http = InfluxHttp(url=url, database=database, username=username, password=password,
                               token=token, timeout_s=timeout_s, retry_total_s=retry_total_s,
                               gzip_level=gzip_level, on_retry=on_retry)
        self.database = database
        self.create_database = create_database
        self.max_batch_points = max_batch_points
        self.events_retention_policy = events_retention_policy
        self.rollup_policy: str | None = None
        """The policy holding the rollups (``nzd store init``), found on open."""
        self.rollup_after_ms = int(rollup_after_s * 1000)
        """Aggregated history over a longer span reads the 15-minute rollups, not raw readings."""

    @property
    def retries(self) -> int:
        return self.http.retries

    async def open(self) -> None:
        await self.http.open()
        if self.create_database:
            # 1.x only; 2.x/3.x map databases to buckets made by their own tools.
            try:
                await self.http.query(f"CREATE DATABASE {quote_ident(self.database)}", database=False)
            except StoreRejected as exc:
                log.warning("could not create database %r (expected on InfluxDB 2.x/3.x, where the "
                            "bucket is made with its own tools): %s", self.database, exc)
        names = await self._policies()
        if self.events_retention_policy is None:
            found = EVENTS_RETENTION_POLICY in names
            self.events_retention_policy = EVENTS_RETENTION_POLICY if found else None
        self.rollup_policy = ROLLUP_POLICY if ROLLUP_POLICY in names else None

    async def _policies(self) -> list[str]:
        try:
            res = await self.http.query(f"SHOW RETENTION POLICIES ON {quote_ident(self.database)}",
                                        database=False, retry=False)
        except StoreError:  # 2.x/3.x may not answer this; their default policy is used
            return []
        return [row[0] for s in res[0].get("series", []) for row in s.get("values", [])]

    def _events_source(self) -> str:
        if self.events_retention_policy:
            return (f"{quote_ident(self.database)}.{quote_ident(self.events_retention_policy)}."
                    f"{quote_ident(EVENTS_MEASUREMENT)}")
        return quote_ident(EVENTS_MEASUREMENT)

    async def close(self) -> None:
        await self.http.close()

    async def ping(self) -> bool:
        return await self.http.ping()

    async def write(self, readings: Sequence[Reading]) -> None:
        """Write in chunks of ``max_batch_points``; every chunk is retried until stored.

        A rewrite of the same reading (same device, kind and timestamp) overwrites
        it, so retrying after a partial failure never duplicates anything.
        """
        try:
            lines = [reading_line(r) for r in readings]
        except (LineProtocolError, ValueError) as exc:
            raise StoreRejected(f"cannot store reading: {exc}") from exc
        for i in range(0, len(lines), self.max_batch_points):
            body = "\n".join(lines[i : i + self.max_batch_points]).encode("utf-8")
            await self.http.write(body, precision="ms")

    def _where(self, *, district: str, site: str | None, device: str | None) -> str:
        conds = [f'"district" = {quote_string(district)}']
        if site is not None:
            conds.append(f'"site" = {quote_string(site)}')
        if device is not None:
            conds.append(f'"device" = {quote_string(device)}')
        return " AND ".join(conds)

    async def latest(
        self, *, district: str, site: str | None = None, device: str | None = None,
        since_ms: int | None = None,
    ) -> list[Reading]:
        try:
            where = self._where(district=district, site=site, device=device)
        except LineProtocolError as exc:
            raise StoreRejected(str(exc)) from exc
        if since_ms is not None:
            # Only the shards of the lookback are read, however long the retention.
            where += f" AND time >= {int(since_ms)}ms"
        return await self._latest_where(district, where)

    async def latest_silent(
        self, *, district: str, site: str | None = None, since_ms: int
    ) -> list[Reading]:
        try:
            where = self._where(district=district, site=site, device=None)
        except LineProtocolError as exc:
            raise StoreRejected(str(exc)) from exc
        # The series come from the index; which ones spoke since comes from the lookback's shards.
        res = await self.http.query(
            f"SHOW SERIES FROM {_ALL_KINDS} WHERE {where}; "
            f'SELECT last("seq") FROM {_ALL_KINDS} WHERE {where} AND time >= {int(since_ms)}ms '
            'GROUP BY "site", "device"')
        known: set[tuple[str, str, str]] = set()
        for s in res[0].get("series", []):
            for (key,) in s["values"]:
                measurement, tags = parse_series_key(key)
                if "site" in tags and "device" in tags:
                    known.add((measurement, tags["site"], tags["device"]))
        recent = {(s["name"], s["tags"]["site"], s["tags"]["device"]) for s in res[1].get("series", [])}
        silent = sorted(known - recent)
        out: list[Reading] = []
        for i in range(0, len(silent), _SILENT_CHUNK):
            chunk = silent[i:i + _SILENT_CHUNK]
            # Only these series are read (the tag index picks them), each over its whole history.
            pairs = " OR ".join(f'("site" = {quote_string(s)} AND "device" = {quote_string(d)})'
                                for _, s, d in chunk)
            found = await self._latest_where(district, f"{where} AND ({pairs})")
            wanted = set(chunk)
            out += [r for r in found if (r.kind.value, r.site, r.device) in wanted]
        out.sort(key=lambda r: (r.site, r.device, r.kind.value))
        return out

    async def _latest_where(self, district: str, where: str) -> list[Reading]:
        group = 'GROUP BY "site", "device"'
        # The second statement's other fields come from the point of last("seq"): the newest
        # reading's own flags.
        q = (f"SELECT last(*) FROM {_ALL_KINDS} WHERE {where} {group}; "
             f'SELECT last("seq"), {quote_ident(_QUALITY)}, {quote_ident(_REPLAYED)} '
             f"FROM {_ALL_KINDS} WHERE {where} {group}")
        res = await self.http.query(q)
        values: dict[tuple[str, str, str], dict[str, float]] = {}
        for s in res[0].get("series", []):
            key = (s["name"], s["tags"]["site"], s["tags"]["device"])
            row = s["values"][0]
            vals = values.setdefault(key, {})
            for col, v in zip(s["columns"][1:], row[1:], strict=True):
                name = col.removeprefix("last_")
                if v is not None and name not in _RESERVED and not isinstance(v, str | bool):
                    vals[name] = float(v)
        out: list[Reading] = []
        for s in res[1].get("series", []):
            key = (s["name"], s["tags"]["site"], s["tags"]["device"])
            ts_ms, seq, quality, replayed = s["values"][0][:4]
            out.append(Reading(district=district, site=key[1], device=key[2], kind=DeviceKind(key[0]),
                               ts_ms=int(ts_ms), seq=int(seq), values=values.get(key, {}),
                               replayed=replayed is True, quality=parse_quality(quality)))
        out.sort(key=lambda r: (r.site, r.device, r.kind.value))
        return out

    async def history(
        self,
        *,
        district: str,
        site: str | None = None,
        device: str | None = None,
        kind: DeviceKind | None = None,
        quantities: Sequence[str],
        start_ms: int,
        end_ms: int,
        every_s: int | None = None,
        aggregation: Aggregation = Aggregation.MEAN,
    ) -> list[Series]:
        if not quantities:
            return []
        check_every_s(every_s)
        try:
            where = self._where(district=district, site=site, device=device)
        except LineProtocolError as exc:
            raise StoreRejected(str(exc)) from exc
        kinds = [DeviceKind(kind)] if kind is not None else list(DeviceKind)
        if every_s is None:
            cols = ", ".join(quote_ident(q) for q in quantities)
            sources = ",".join(quote_ident(k.value) for k in kinds)
            statements = [f"SELECT {cols} FROM {sources} WHERE {where} AND time >= {int(start_ms)}ms "
                          f'AND time < {int(end_ms)}ms GROUP BY "site", "device"']
        else:
            statements = history_selects(
                database=self.database, rollup_policy=self.rollup_policy, kinds=kinds, where=where,
                quantities=quantities, start_ms=start_ms, end_ms=end_ms, every_s=every_s,
                aggregation=Aggregation(aggregation), rollup_after_ms=self.rollup_after_ms,
                now_ms=district_clock().now_ms())
        res = await self.http.query("; ".join(statements))
        found: dict[tuple[str, str, str], dict[int, dict[str, float]]] = {}
        for part in res:
            for s in part.get("series", []):
                by_time = found.setdefault((s["tags"]["site"], s["tags"]["device"], s["name"]), {})
                cols_idx = {c: i for i, c in enumerate(s["columns"])}
                for r in s["values"]:
                    vals = {q: float(r[i]) for q in quantities
                            if (i := cols_idx.get(q)) is not None and r[i] is not None}
                    if vals:
                        by_time.setdefault(int(r[0]), {}).update(vals)
        out: list[Series] = []
        for (site_id, device_id, kind_name), by_time in found.items():
            times = sorted(by_time)
            if times:
                out.append(Series(site=site_id, device=device_id, kind=DeviceKind(kind_name), times_ms=times,
                                  values={q: [by_time[t].get(q) for t in times] for q in quantities}))
        out.sort(key=lambda x: (x.site, x.device, x.kind.value))
        return out

    async def counter_bounds(
        self,
        *,
        district: str,
        site: str | None = None,
        quantities: Sequence[str],
        start_ms: int,
        end_ms: int,
        every_s: int | None = None,
    ) -> list[Series]:
        if not quantities:
            return []
        check_every_s(every_s)
        try:
            where = self._where(district=district, site=site, device=None)
        except LineProtocolError as exc:
            raise StoreRejected(str(exc)) from exc
        return await influx_counter_bounds(
            self.http, database=self.database, rollup_policy=self.rollup_policy, where=where,
            quantities=quantities, start_ms=start_ms, end_ms=end_ms, every_s=every_s,
            now_ms=district_clock().now_ms())

    async def write_events(self, events: Sequence[Event]) -> None:
        try:
            lines = [
                line(EVENTS_MEASUREMENT,
                     {"kind": EventKind(e.kind).value, "district": e.district, "site": e.site},
                     {"key": e.key, "document": orjson.dumps(e.document).decode()}, ts_ns)
                for e, ts_ns in zip(events, event_slots(events), strict=True)
            ]
        except (LineProtocolError, TypeError, ValueError) as exc:
            raise StoreRejected(f"cannot store event: {exc}") from exc
        for i in range(0, len(lines), self.max_batch_points):
            await self.http.write("\n".join(lines[i : i + self.max_batch_points]).encode(), precision="ns",
                                  retention_policy=self.events_retention_policy)

    async def events(
        self,
        kind: EventKind,
        *,
        district: str,
        site: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        try:
            where = f'"kind" = {quote_string(EventKind(kind).value)} AND ' + self._where(
                district=district, site=site, device=None)
        except LineProtocolError as exc:
            raise StoreRejected(str(exc)) from exc
        if start_ms is not None:
            where += f" AND time >= {int(start_ms)}ms"
        if end_ms is not None:
            where += f" AND time < {int(end_ms)}ms"
        q = (f'SELECT "site", "key", "document" FROM {self._events_source()} WHERE {where} '
             f"ORDER BY time DESC LIMIT {max(int(limit), 0)}")
        if limit <= 0:
            return []
        res = await self.http.query(q, epoch="ns")
        out: list[Event] = []
        for s in res[0].get("series", []):
            for ts_ns, ev_site, key, document in s["values"]:
                out.append(Event(kind=EventKind(kind), district=district, site=ev_site,
                                 ts_ms=int(ts_ns) // _NS_PER_MS, key=key,
                                 document=orjson.loads(document)))
        return out
