"""What only the SQLite store has: a file written by an earlier release keeps working."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from nzd.messages import DeviceKind
from nzd.store import Reading, SqliteStore

# The tables of readings as the first release created them (before quality flags were stored).
FIRST_RELEASE = """
CREATE TABLE readings (
    district TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, seq INTEGER NOT NULL, replayed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (district, site, device, kind, ts_ms)) WITHOUT ROWID;
CREATE TABLE latest_readings (
    district TEXT NOT NULL, site TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL,
    ts_ms INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (district, site, device, kind)) WITHOUT ROWID;
INSERT INTO readings VALUES ('d', 's', 'm', 'electricity_meter', 1000, 1, 0);
INSERT INTO latest_readings VALUES ('d', 's', 'm', 'electricity_meter', 1000, 1);
"""


def test_a_file_of_the_first_release_is_migrated_and_keeps_its_readings(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIRST_RELEASE)

    async def run() -> tuple[list[Reading], list[Reading]]:
        store = SqliteStore(path=path)
        await store.open()
        try:
            before = await store.latest(district="d")
            await store.write([Reading("d", "s", "m", DeviceKind.ELECTRICITY_METER, 2000, 2,
                                       {"active_power_w": 5.0}, replayed=True,
                                       quality={"energy_import_wh": "comm_error"})])
            return before, await store.latest(district="d")
        finally:
            await store.close()

    before, after = asyncio.run(run())
    assert [(r.seq, r.quality, r.replayed) for r in before] == [(1, {}, False)]
    assert [(r.seq, r.quality, r.replayed) for r in after] == [(2, {"energy_import_wh": "comm_error"}, True)]
