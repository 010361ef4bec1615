"""What the gateway last wrote to each asset, kept in the gateway's SQLite database.

Persisted so that after a restart a redelivered setpoint is still applied only
once, the ramp limit still knows the last value, the watchdog still falls
back when the last setpoint's validity ends, and a setpoint held for a later
window (the broker was told it arrived) is still applied when the window opens.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from nzd.private_files import private_file

__all__ = ["AssetState", "SetpointStateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS setpoint_state (
    asset TEXT PRIMARY KEY,
    last_id INTEGER,
    last_value REAL,
    last_write_ms INTEGER,
    active_until_ms INTEGER,
    fallback_applied INTEGER NOT NULL DEFAULT 0,
    last_issued_ms INTEGER
);
CREATE TABLE IF NOT EXISTS held_setpoints (
    asset TEXT PRIMARY KEY,
    payload BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class AssetState:
    last_id: int | None = None
    """Id of the last setpoint applied (None: never)."""
    last_value: float | None = None
    """Last value written, setpoint or fallback."""
    last_write_ms: int | None = None
    active_until_ms: int | None = None
    """End of validity of the setpoint in force; None once the fallback is in force."""
    fallback_applied: bool = False
    last_issued_ms: int | None = None
    """``issued_at`` of the last setpoint applied: setpoints are ordered by it, not by id."""


class SetpointStateStore:
    def __init__(self, *, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(private_file(path), isolation_level=None, check_same_thread=False,
                                   timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(setpoint_state)")}
        if "last_issued_ms" not in columns:  # a database from before the column
            self._db.execute("ALTER TABLE setpoint_state ADD COLUMN last_issued_ms INTEGER")

    def load(self) -> dict[str, AssetState]:
        with self._lock:
            rows = self._db.execute(
                "SELECT asset, last_id, last_value, last_write_ms, active_until_ms, fallback_applied, "
                "last_issued_ms FROM setpoint_state").fetchall()
        return {str(a): AssetState(i, v, w, u, bool(f), t) for a, i, v, w, u, f, t in rows}

    def save(self, asset: str, state: AssetState) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO setpoint_state "
                "(asset, last_id, last_value, last_write_ms, active_until_ms, fallback_applied, "
                "last_issued_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (asset, state.last_id, state.last_value, state.last_write_ms, state.active_until_ms,
                 int(state.fallback_applied), state.last_issued_ms))

    def load_held(self) -> dict[str, bytes]:
        """Setpoints held for a later window, per asset, as their encoded messages."""
        with self._lock:
            rows = self._db.execute("SELECT asset, payload FROM held_setpoints").fetchall()
        return {str(a): bytes(p) for a, p in rows}

    def hold(self, asset: str, payload: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO held_setpoints (asset, payload) VALUES (?, ?)",
                             (asset, payload))

    def release(self, asset: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM held_setpoints WHERE asset = ?", (asset,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
