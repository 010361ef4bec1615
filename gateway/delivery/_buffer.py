"""The durable reading queue: SQLite in WAL mode, one row per reading.

A reading is committed here before it is published and deleted only when ingest
confirms that the store has it (or, without confirmations, after the broker's
PUBACK). ``seq`` is allocated in the same transaction as the insert and kept in
the same database, so it stays monotonic across restarts and crashes.

When the disk itself is full the readings of the failed commit are lost: their
seqs stay allocated (a gap every consumer can see), they are counted in
``dropped`` and ``disk_full``, and the buffer goes on serving and deleting what
it holds. The budget (``max_bytes``) covers the write-ahead log too: an eighth of
it is kept for the log, which is checkpointed and truncated to that size.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.delivery._sqlite import configure_wal, is_disk_full, on_disk_bytes, rollback
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
        self.synchronous = synchronous
        self.wal_bytes = max_bytes // 8
        """Share of the budget kept for the write-ahead log."""
        self._lock = threading.Lock()
        # The service calls from one worker thread, tests from the main one.
        self._db = sqlite3.connect(private_file(path), isolation_level=None, check_same_thread=False,
                                   timeout=30)
        # FULL: a commit is on disk (fsync of the WAL) before the reading is published.
        configure_wal(self._db, wal_limit_bytes=self.wal_bytes, synchronous=synchronous)
        self._db.executescript(_SCHEMA)
        self._next_seq = max(self._meta("next_seq"), self._max_seq() + 1)
        self._dropped = self._meta("dropped")
        self._disk_full = self._meta("disk_full")
        self.last_error: str | None = None
        """The disk's error of the last failed commit, None once a commit succeeded."""
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
    def disk_full(self) -> int:
        """Of ``dropped``, readings lost because the disk itself was full (their seqs are a gap)."""
        return self._disk_full

    @property
    def rows_budget(self) -> int:
        """What the rows may take: the budget less the write-ahead log's share."""
        return self.max_bytes - self.wal_bytes

    def disk_bytes(self) -> int:
        """Database plus write-ahead log as the file system counts them."""
        return on_disk_bytes(self.path)

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
            try:
                cur.execute("BEGIN IMMEDIATE")
                cur.executemany("INSERT INTO readings (seq, device, ts_ms, payload) VALUES (?, ?, ?, ?)",
                                rows)
                dropped_now = self._enforce_budget(cur, self._bytes + added)
                cur.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                (("next_seq", seq), ("dropped", self._dropped + dropped_now[0]),
                                 ("disk_full", self._disk_full)))
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback(self._db)
                if not is_disk_full(exc):
                    raise
                # The seqs stay allocated: consumers see the gap, the counts say why.
                self._next_seq = seq
                self._dropped += len(rows)
                self._disk_full += len(rows)
                self.last_error = str(exc)
                log.error("disk full: %d readings (seq %d..%d) lost, %d so far: %s",
                          len(rows), rows[0][0], rows[-1][0], self._disk_full, exc)
                return []
            except BaseException:
                rollback(self._db)
                raise
            self.last_error = None
            self._next_seq = seq
            self._count += len(rows) - dropped_now[0]
            self._bytes += added - dropped_now[1]
            self._dropped += dropped_now[0]
            return messages

    def _enforce_budget(self, cur: sqlite3.Cursor, total_bytes: int) -> tuple[int, int]:
        """Delete the oldest rows until ``total_bytes`` fits; returns (rows, bytes) dropped."""
        if total_bytes <= self.rows_budget:
            return 0, 0
        excess = total_bytes - self.rows_budget
        freed = 0
        doomed: list[int] = []
        for seq, size in cur.execute("SELECT seq, LENGTH(payload) FROM readings ORDER BY seq"):
            doomed.append(int(seq))
            freed += int(size) + ROW_OVERHEAD_BYTES
            if freed >= excess:
                break
        cur.executemany("DELETE FROM readings WHERE seq = ?", ((s,) for s in doomed))
        return len(doomed), freed

    # -- reading and acknowledging -------------------------------------------------------------
    def fetch(self, *, after_seq: int, limit: int) -> list[BufferedRow]:
        """Queued rows with ``seq > after_seq`` in seq (= time) order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, device, ts_ms, payload FROM readings WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit)).fetchall()
        return [BufferedRow(int(s), str(d), int(t), bytes(p)) for s, d, t, p in rows]

    def fetch_range(self, *, first: int, last: int, limit: int) -> list[BufferedRow]:
        """Queued rows with ``first <= seq <= last`` in seq order (readings sent before, resent)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, device, ts_ms, payload FROM readings WHERE seq BETWEEN ? AND ? "
                "ORDER BY seq LIMIT ?", (first, last, limit)).fetchall()
        return [BufferedRow(int(s), str(d), int(t), bytes(p)) for s, d, t, p in rows]

    def remove(self, seqs: Iterable[int]) -> int:
        """Delete acknowledged rows; unknown seqs (already dropped) are ignored."""
        return self.remove_ranges([(None, s, s) for s in seqs])

    def remove_ranges(self, ranges: Sequence[tuple[str | None, int, int]]) -> int:
        """Delete rows by ``(device, first, last)`` seq ranges (inclusive) in one transaction.

        ``device`` None matches any device. Rows already gone are ignored, so a
        confirmation that repeats is harmless. On a full disk the delete itself can
        fail (the log needs room): the error is raised and nothing is deleted.

        Deletes commit without their own fsync (``synchronous=NORMAL`` for this
        transaction; the next insert's fsync covers them): a delete lost at a power cut
        only means the reading is sent, stored and confirmed once more.
        """
        if not ranges:
            return 0
        with self._lock:
            cur = self._db.cursor()
            removed = 0
            freed = 0
            relaxed = self.synchronous == "FULL"
            try:
                if relaxed:
                    cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("BEGIN IMMEDIATE")
                for device, first, last in ranges:
                    if device is None:
                        found = cur.execute("DELETE FROM readings WHERE seq BETWEEN ? AND ? "
                                            "RETURNING LENGTH(payload)", (first, last)).fetchall()
                    else:
                        found = cur.execute("DELETE FROM readings WHERE seq BETWEEN ? AND ? AND device = ? "
                                            "RETURNING LENGTH(payload)", (first, last, device)).fetchall()
                    removed += len(found)
                    freed += sum(int(n) for (n,) in found) + ROW_OVERHEAD_BYTES * len(found)
                cur.execute("COMMIT")
            except BaseException:
                rollback(self._db)
                raise
            finally:
                if relaxed:
                    self._db.execute("PRAGMA synchronous=FULL")
            self._count -= removed
            self._bytes -= freed
            return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
