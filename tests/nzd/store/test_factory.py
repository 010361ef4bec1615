"""open_store picks the backend from the settings."""

from __future__ import annotations

from pathlib import Path

from nzd.settings import ServiceSettings
from nzd.store import InfluxStore, SqliteStore, TelemetryStore, open_store
from tests.harness import InfluxServer


async def test_sqlite_when_no_influx_url(tmp_path: Path) -> None:
    store = open_store(ServiceSettings(influx_url=None, sqlite_path=tmp_path / "x.sqlite"))
    assert isinstance(store, SqliteStore)
    assert isinstance(store, TelemetryStore)
    await store.open()
    assert await store.ping()
    await store.close()


async def test_influxdb_when_an_influx_url_is_set(influxdb: InfluxServer) -> None:
    store = open_store(ServiceSettings(influx_url=influxdb.url, influx_database="factory_test",
                                       influx_token="t0k"))  # type: ignore[arg-type]
    assert isinstance(store, InfluxStore)
    assert isinstance(store, TelemetryStore)
    assert store.http._headers["Authorization"] == "Token t0k"
