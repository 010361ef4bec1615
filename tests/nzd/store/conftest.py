"""One ``store`` fixture, parametrised over the real influxd and SQLite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nzd.store import InfluxStore, SqliteStore, TelemetryStore
from tests.harness import InfluxServer


@pytest.fixture(params=["sqlite", "influxdb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TelemetryStore]:
    backend: TelemetryStore
    if request.param == "sqlite":
        backend = SqliteStore(path=tmp_path / "nzd.sqlite")
    else:
        influx: InfluxServer = request.getfixturevalue("influxdb")
        backend = InfluxStore(url=influx.url, database=f"test_store_{uuid.uuid4().hex[:12]}",
                              retry_total_s=5.0)
    await backend.open()
    yield backend
    await backend.close()
