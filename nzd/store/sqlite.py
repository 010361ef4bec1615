"""TelemetryStore on SQLite: the embedded default for a single machine.

The standard library's sqlite3 runs on one dedicated thread, so the event loop
never blocks on disk. It behaves as the InfluxDB store does: a reading is
identified by (district, site, device, kind, ts_ms); writing it again merges
its fields, newest value winning; aggregation buckets are aligned to multiples
of ``every_s`` since the epoch and reported by their start; empty buckets are
left out.

Tables: ``readings`` (one row per reading: seq), ``samples`` (one row per
quantity value), ``latest_*`` (the last reading and value per device, kept on
write so that ``latest`` does not scan history), ``events``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from nzd.messages import DeviceKind
from nzd.private_files import private_file
from nzd.store.base import (
    Aggregation,
    Event,
    EventKind,
    Reading,
    Series,
    StoreRejected,
    StoreUnavailable,
    check_every_s,
    is_reserved_quantity,
)

__all__ = ["SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS readings (
    district TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, seq INTEGER NOT NULL, replayed INTEGER NOT NULL DEFAULT 0, quality TEXT,
    PRIMARY KEY (district, site, device, kind, ts_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples (
    district TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL,
    quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (district, site, device, kind, quantity, ts_ms)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_by_time ON samples (district, quantity, ts_ms);
CREATE TABLE IF NOT EXISTS latest_readings (
    district TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, seq INTEGER NOT NULL, replayed INTEGER NOT NULL DEFAULT 0, quality TEXT,
    PRIMARY KEY (district, site, device, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest_values (
    district TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL,
    quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (district, site, device, kind, quantity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    kind TEXT NOT NULL, district TEXT NOT NULL, site TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    key TEXT NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (kind, district, site, ts_ms, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_time ON events (kind, district, ts_ms);
"""

# Columns added after the first release: (table, column, declaration), added to older files.
_MIGRATIONS = (
    ("readings", "quality", "TEXT"),
    ("latest_readings", "replayed", "INTEGER NOT NULL DEFAULT 0"),
    ("latest_readings", "quality", "TEXT"),
)


def _migrate(conn: sqlite3.Connection) -> None:
    for table, column, declaration in _MIGRATIONS:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _quality(text: str | None) -> dict[str, str]:
    return {} if not text else {str(k): str(v) for k, v in orjson.loads(text).items()}


_AGG_SQL = {Aggregation.MEAN: "AVG(value)", Aggregation.MAX: "MAX(value)", Aggregation.MIN: "MIN(value)"}


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str) or value == "":
        raise StoreRejected(f"{what} must be a non-empty string, got {value!r}")
    return value


class SqliteStore:
    def __init__(self, *, path: Path | str, synchronous: str = "FULL") -> None:
        """``synchronous`` FULL: a write returns (and ingest acknowledges) only once its commit is
        on disk, WAL fsynced; NORMAL would lose the last commits at a power cut (kept for the
        benchmark that measures the difference)."""
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.synchronous = synchronous
        self.path = Path(path) if str(path) != ":memory:" else path
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None or self._executor is None:
            raise RuntimeError("the SQLite store is not open; call `await store.open()` first")
        conn = self._conn

        def call() -> T:
            try:
                with conn:  # one transaction: all or nothing
                    return fn(conn)
            except sqlite3.OperationalError as exc:  # locked, disk full, I/O error
                raise StoreUnavailable(f"SQLite {self.path}: {exc}") from exc
            except (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError) as exc:
                raise StoreRejected(f"SQLite refused the data: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        if self._conn is not None:
            return
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nzd-sqlite")

        def connect() -> sqlite3.Connection:
            if isinstance(self.path, Path):
                private_file(self.path)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10.0,
                                   isolation_level=None)
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            _migrate(conn)
            conn.isolation_level = "DEFERRED"  # back to implicit transactions for `with conn`
            return conn

        self._conn = await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        if self._conn is None or self._executor is None:
            return
        conn, executor = self._conn, self._executor
        await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)
        self._conn = None
        self._executor = None

    async def ping(self) -> bool:
        try:
            return await self._run(lambda c: c.execute("SELECT 1").fetchone() == (1,))
        except (StoreUnavailable, RuntimeError):
            return False

    async def write(self, readings: Sequence[Reading]) -> None:
        rows_r: list[tuple[Any, ...]] = []
        rows_s: list[tuple[Any, ...]] = []
        for r in readings:
            key = (_check_text(r.district, "district"), _check_text(r.site, "site"),
                   _check_text(r.device, "device"), DeviceKind(r.kind).value)
            rows_r.append((*key, int(r.ts_ms), int(r.seq), int(r.replayed),
                           orjson.dumps(dict(r.quality)).decode() if r.quality else None))
            for q, v in r.values.items():
                if is_reserved_quantity(q):
                    raise StoreRejected(f"quantity name {q!r} is reserved (a tag key, time, seq or nzd_...)")
                v = float(v)
                if v != v or v in (float("inf"), float("-inf")):
                    raise StoreRejected(f"{q} is {v!r}; only finite numbers can be stored")
                rows_s.append((*key, q, int(r.ts_ms), v))

        def do(c: sqlite3.Connection) -> None:
            c.executemany("INSERT OR REPLACE INTO readings (district, site, device, kind, ts_ms, seq, "
                          "replayed, quality) VALUES (?,?,?,?,?,?,?,?)", rows_r)
            c.executemany("INSERT OR REPLACE INTO samples VALUES (?,?,?,?,?,?,?)", rows_s)
            c.executemany(
                "INSERT INTO latest_readings (district, site, device, kind, ts_ms, seq, replayed, quality) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET ts_ms = excluded.ts_ms, "
                "seq = excluded.seq, replayed = excluded.replayed, quality = excluded.quality "
                "WHERE excluded.ts_ms >= ts_ms", rows_r)
            c.executemany(
                "INSERT INTO latest_values VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                "ts_ms = excluded.ts_ms, value = excluded.value WHERE excluded.ts_ms >= ts_ms", rows_s)

        await self._run(do)

    @staticmethod
    def _filters(district: str, site: str | None, device: str | None,
                 kind: DeviceKind | None = None) -> tuple[str, list[Any]]:
        sql, args = "district = ?", [district]
        for col, val in (("site", site), ("device", device),
                         ("kind", None if kind is None else DeviceKind(kind).value)):
            if val is not None:
                sql += f" AND {col} = ?"
                args.append(val)
        return sql, args

    async def latest(
        self, *, district: str, site: str | None = None, device: str | None = None,
        since_ms: int | None = None,
    ) -> list[Reading]:
        where, args = self._filters(district, site, device)
        if since_ms is not None:
            where += " AND ts_ms >= ?"
            args.append(int(since_ms))
        return await self._run(lambda c: self._latest_rows(c, district, where, args))

    async def latest_silent(
        self, *, district: str, site: str | None = None, since_ms: int
    ) -> list[Reading]:
        where, args = self._filters(district, site, None)
        return await self._run(lambda c: self._latest_rows(c, district, where, args, before_ms=int(since_ms)))

    @staticmethod
    def _latest_rows(c: sqlite3.Connection, district: str, where: str, args: list[Any],
                     before_ms: int | None = None) -> list[Reading]:
        """From the latest tables, which hold one row per device (and quantity): no history scan."""
        readings_where, readings_args = where, args
        if before_ms is not None:
            readings_where, readings_args = where + " AND ts_ms < ?", [*args, before_ms]
        values: dict[tuple[str, str, str], dict[str, float]] = {}
        for s, d, k, q, v in c.execute(
                f"SELECT site, device, kind, quantity, value FROM latest_values WHERE {where} "
                "ORDER BY quantity", args):
            values.setdefault((s, d, k), {})[q] = v
        return [
            Reading(district=district, site=s, device=d, kind=DeviceKind(k), ts_ms=ts, seq=seq,
                    values=values.get((s, d, k), {}), replayed=bool(replayed), quality=_quality(quality))
            for s, d, k, ts, seq, replayed, quality in c.execute(
                f"SELECT site, device, kind, ts_ms, seq, replayed, quality FROM latest_readings "
                f"WHERE {readings_where} ORDER BY site, device, kind", readings_args)
        ]

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
        where, args = self._filters(district, site, device, kind)
        qs = list(dict.fromkeys(quantities))
        where += f" AND quantity IN ({','.join('?' * len(qs))}) AND ts_ms >= ? AND ts_ms < ?"
        args += [*qs, int(start_ms), int(end_ms)]
        if every_s is None:
            sql = f"SELECT site, device, kind, ts_ms, quantity, value FROM samples WHERE {where}"
        else:
            step = int(every_s) * 1000
            bucket = f"(ts_ms - (ts_ms % {step}))"
            agg = Aggregation(aggregation)
            # SQLite takes the bare column `value` from the row holding MAX(ts_ms).
            value = "value, MAX(ts_ms)" if agg is Aggregation.LAST else _AGG_SQL[agg]
            sql = (f"SELECT site, device, kind, {bucket} AS b, quantity, {value} FROM samples "
                   f"WHERE {where} GROUP BY site, device, kind, b, quantity")

        def do(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return c.execute(sql, args).fetchall()

        rows = await self._run(do)
        grouped: dict[tuple[str, str, str], dict[int, dict[str, float]]] = {}
        for s, d, k, t, q, v, *_ in rows:
            grouped.setdefault((s, d, k), {}).setdefault(int(t), {})[q] = float(v)
        out: list[Series] = []
        for (s, d, k), by_time in sorted(grouped.items()):
            times = sorted(by_time)
            out.append(Series(site=s, device=d, kind=DeviceKind(k), times_ms=times,
                              values={q: [by_time[t].get(q) for t in times] for q in quantities}))
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
        """SQLite keeps every reading: the first and last of each bucket are found by the query."""
        if not quantities:
            return []
        check_every_s(every_s)
        where, args = self._filters(district, site, None)
        qs = list(dict.fromkeys(quantities))
        where += f" AND quantity IN ({','.join('?' * len(qs))}) AND ts_ms >= ? AND ts_ms < ?"
        args += [*qs, int(start_ms), int(end_ms)]
        cols = "s.site, s.device, s.kind, s.ts_ms, s.quantity, s.value, r.quality"
        join = ("JOIN readings r ON r.district = s.district AND r.site = s.site AND r.device = s.device "
                "AND r.kind = s.kind AND r.ts_ms = s.ts_ms")
        if every_s is None:
            sql = f"SELECT {cols} FROM (SELECT * FROM samples WHERE {where}) s {join}"
        else:
            step = int(every_s) * 1000
            sql = (f"WITH b AS (SELECT district, site, device, kind, quantity, MIN(ts_ms) AS t0, "
                   f"MAX(ts_ms) AS t1 FROM samples WHERE {where} "
                   f"GROUP BY site, device, kind, quantity, ts_ms - (ts_ms % {step})) "
                   f"SELECT {cols} FROM b JOIN samples s ON s.district = b.district AND s.site = b.site "
                   "AND s.device = b.device AND s.kind = b.kind AND s.quantity = b.quantity "
                   f"AND s.ts_ms IN (b.t0, b.t1) {join}")

        def do(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return c.execute(sql, args).fetchall()

        grouped: dict[tuple[str, str, str], dict[int, dict[str, tuple[float, str | None]]]] = {}
        for s, d, k, ts, q, v, quality in await self._run(do):
            flag = _quality(quality).get(q)
            grouped.setdefault((s, d, k), {}).setdefault(int(ts), {})[q] = (float(v), flag)
        out: list[Series] = []
        for (s, d, k), by_time in sorted(grouped.items()):
            times = sorted(by_time)
            rows = [by_time[t] for t in times]
            out.append(Series(site=s, device=d, kind=DeviceKind(k), times_ms=times,
                              values={q: [r[q][0] if q in r else None for r in rows] for q in quantities},
                              flags={q: [r[q][1] if q in r else None for r in rows] for q in quantities}))
        return out

    async def write_events(self, events: Sequence[Event]) -> None:
        try:
            rows = [(EventKind(e.kind).value, _check_text(e.district, "district"),
                     _check_text(e.site, "site"), int(e.ts_ms), e.key, orjson.dumps(e.document).decode())
                    for e in events]
        except (TypeError, ValueError) as exc:
            raise StoreRejected(f"cannot store event: {exc}") from exc

        def do(c: sqlite3.Connection) -> None:
            c.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?)", rows)

        await self._run(do)

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
        sql = "SELECT site, ts_ms, key, document FROM events WHERE kind = ? AND district = ?"
        args: list[Any] = [EventKind(kind).value, district]
        for cond, val in (("site = ?", site), ("ts_ms >= ?", start_ms), ("ts_ms < ?", end_ms)):
            if val is not None:
                sql += f" AND {cond}"
                args.append(val)
        sql += " ORDER BY ts_ms DESC, key DESC LIMIT ?"
        args.append(max(int(limit), 0))

        def do(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return c.execute(sql, args).fetchall()

        return [Event(kind=EventKind(kind), district=district, site=s, ts_ms=ts, key=key,
                      document=orjson.loads(doc)) for s, ts, key, doc in await self._run(do)]
