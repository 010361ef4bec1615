"""The SQLite store returns from a write only once the commit is on disk (synchronous=FULL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nzd.store import SqliteStore


async def test_the_store_commits_with_synchronous_full(tmp_path: Path) -> None:
    store = SqliteStore(path=tmp_path / "s.sqlite")
    await store.open()
    try:
        # 2 = FULL: the WAL is fsynced at every commit, so ingest never acknowledges a write a
        # power cut could take back.
        assert await store._run(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2
        assert await store._run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    finally:
        await store.close()
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        SqliteStore(path=tmp_path / "t.sqlite", synchronous="OFF")
    assert sqlite3.connect(tmp_path / "s.sqlite").execute("PRAGMA integrity_check").fetchone()[0] == "ok"
