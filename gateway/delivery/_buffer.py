"""The durable reading queue: SQLite in WAL mode, one row per reading.

A reading is committed here before it is published and deleted only after the
broker acknowledged it. ``seq`` is allocated in the same transaction as the
insert and kept in the same database, so it stays monotonic across restarts and
crashes. Not thread safe: the service drives it from one worker thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nzd.messages import DeviceKind, Quality, Telemetry, encode
from nzd.private_files import private_file

__all__ = ["ROW_OVERHEAD_BYTES", "BufferedRow", "Reading", "ReadingBuffer"]

log = logging.getLogger(__name__)

#: What one row costs on disk beyond its payload (key, columns, b-tree slack); an
#: estimate that keeps the budget honest for small payloads.
ROW_OVERHEAD_BYTES = 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    seq INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Reading:
    """One device read, before it gets its ``seq``."""

    device: str
    kind: DeviceKind
    ts_ms: int
    values: dict[str, float]
    quality: dict[str, Quality] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BufferedRow:
    seq: int
    device: str
    ts_ms: int
    payload: bytes
    """The encoded :class:`~nzd.messages.Telemetry` with ``replayed=false``."""


def _row_bytes(payload: bytes) -> int:
    return len(payload) + ROW_OVERHEAD_BYTES


class ReadingBuffer:
    """Readings waiting for the broker's acknowledgement, within a disk budget."""

    def __init__(self, *, path: Path, max_bytes: int, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL", "OFF"):
            raise ValueError("synchronous must be FULL, NORMAL or OFF")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        # The service calls from one worker thread, tests from the main one.
        self._db = sqlite3.connect(private_file(path), isolation_level=None, check_same_thread=False,
                                   timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (fsync of the WAL) before the reading is published.
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        self._next_seq = max(self._meta("next_seq"), self._max_seq() + 1)
        self._dropped = self._meta("dropped")
        self.invalid = 0
        """Readings refused because they are not valid telemetry (logged)."""
        count, total = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM readings").fetchone()
        self._count = int(count)
        self._bytes = int(total) + ROW_OVERHEAD_BYTES * self._count

    # -- state ---------------------------------------------------------------------------------
    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _max_seq(self) -> int:
        row = self._db.execute("SELECT MAX(seq) FROM readings").fetchone()
        return int(row[0]) if row and row[0] is not None else -1

    @property
    def count(self) -> int:
        """Readings waiting for an acknowledgement."""
        return self._count

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @property
    def dropped(self) -> int:
        """Readings dropped because the budget was full, over the buffer's whole life."""
        return self._dropped

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def last_seq(self) -> int:
        """The highest ``seq`` still queued, -1 when empty."""
        with self._lock:
            return self._max_seq()

    # -- writing -------------------------------------------------------------------------------
    def append(self, readings: Sequence[Reading]) -> list[Telemetry]:
        """Give each reading its ``seq`` and commit them all in one transaction."""
        with self._lock:
            seq = self._next_seq
            messages: list[Telemetry] = []
            rows: list[tuple[int, str, int, bytes]] = []
            added = 0
            for r in readings:
                try:
                    msg = Telemetry(ts=r.ts_ms, seq=seq, device=r.device, kind=r.kind,
                                    values=r.values, quality=r.quality)
                except ValueError as exc:  # one bad reading must not cost the others their place
                    self.invalid += 1
                    log.warning("reading of %s not queued: %s", r.device, exc)
                    continue
                payload = encode(msg)
                messages.append(msg)
                rows.append((seq, r.device, r.ts_ms, payload))
                added += _row_bytes(payload)
                seq += 1
            if not rows:
                return messages
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.executemany("INSERT INTO readings (seq, device, ts_ms, payload) VALUES (?, ?, ?, ?)",
                                rows)
                cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (seq,))
                dropped_now = self._enforce_budget(cur, self._bytes + added)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._next_seq = seq
            self._count += len(rows) - dropped_now[0]
            self._bytes += added - dropped_now[1]
            self._dropped += dropped_now[0]
            return messages

    def _enforce_budget(self, cur: sqlite3.Cursor, total_bytes: int) -> tuple[int, int]:
        """Delete the oldest rows until ``total_bytes`` fits; returns (rows, bytes) dropped."""
        if total_bytes <= self.max_bytes:
            return 0, 0
        excess = total_bytes - self.max_bytes
        freed = 0
        doomed: list[int] = []
        for seq, size in cur.execute("SELECT seq, LENGTH(payload) FROM readings ORDER BY seq"):
            doomed.append(int(seq))
            freed += int(size) + ROW_OVERHEAD_BYTES
            if freed >= excess:
                break
        cur.executemany("DELETE FROM readings WHERE seq = ?", ((s,) for s in doomed))
        cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dropped', ?)",
                    (self._dropped + len(doomed),))
        return len(doomed), freed

    # -- reading and acknowledging -------------------------------------------------------------
    def fetch(self, *, after_seq: int, limit: int) -> list[BufferedRow]:
        """Queued rows with ``seq > after_seq`` in seq (= time) order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, device, ts_ms, payload FROM readings WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit)).fetchall()
        return [BufferedRow(int(s), str(d), int(t), bytes(p)) for s, d, t, p in rows]

    def remove(self, seqs: Iterable[int]) -> int:
        """Delete acknowledged rows; unknown seqs (already dropped) are ignored."""
        keys = [(s,) for s in seqs]
        if not keys:
            return 0
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                removed = 0
                freed = 0
                for key in keys:
                    row = cur.execute("DELETE FROM readings WHERE seq = ? RETURNING LENGTH(payload)",
                                      key).fetchone()
                    if row is not None:
                        removed += 1
                        freed += int(row[0]) + ROW_OVERHEAD_BYTES
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._count -= removed
            self._bytes -= freed
            return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
