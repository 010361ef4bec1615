"""Build the configured TelemetryStore from the service settings."""

from __future__ import annotations

from nzd.settings import ServiceSettings
from nzd.store.base import TelemetryStore

__all__ = ["open_store"]


def open_store(settings: ServiceSettings) -> TelemetryStore:
    """InfluxDB when ``influx_url`` is set, else SQLite at ``sqlite_path``.

    The store is built, not connected: ``await store.open()`` before use and
    ``await store.close()`` after.
    """
    if settings.influx_url:
        from nzd.store.influx import InfluxStore

        return InfluxStore(
            url=settings.influx_url,
            database=settings.influx_database,
            username=settings.influx_username,
            password=settings.influx_password.get_secret_value() if settings.influx_password else None,
            token=settings.influx_token.get_secret_value() if settings.influx_token else None,
            create_database=settings.influx_create_database,
            rollup_after_s=settings.influx_rollup_after_h * 3600.0,
        )
    from nzd.store.sqlite import SqliteStore

    return SqliteStore(path=settings.sqlite_path)
