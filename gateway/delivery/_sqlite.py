"""SQLite helpers the gateway's databases share: durable WAL settings, a safe rollback, disk full."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

__all__ = ["configure_wal", "is_disk_full", "on_disk_bytes", "rollback"]


def configure_wal(db: sqlite3.Connection, *, wal_limit_bytes: int, synchronous: str = "FULL") -> None:
    """WAL mode, a commit on disk before it returns, and a write-ahead log kept near ``wal_limit_bytes``.

    By default SQLite checkpoints only at 1000 pages (4 MB) and never shrinks the log
    file; here it checkpoints at the limit and truncates the file back to it afterwards,
    so the log fits in the disk budget.
    """
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: the WAL is fsynced at every commit, so a commit survives a power cut.
    db.execute(f"PRAGMA synchronous={synchronous}")
    page = int(db.execute("PRAGMA page_size").fetchone()[0])
    db.execute(f"PRAGMA wal_autocheckpoint={max(16, wal_limit_bytes // page)}")
    db.execute(f"PRAGMA journal_size_limit={wal_limit_bytes}")


def rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open.

    SQLite rolls back on its own after some errors (a full disk among them); a
    ROLLBACK then fails with "no transaction is active" and, raised from an
    ``except`` block, would hide the error that matters.
    """
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def is_disk_full(exc: BaseException) -> bool:
    """The file system (or the database's size limit) has no room for the write."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def on_disk_bytes(path: Path) -> int:
    """The database file plus its write-ahead log, as the file system counts them."""
    total = 0
    for p in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total
