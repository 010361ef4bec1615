"""Service settings from ``NZD_*`` environment variables (pydantic-settings).

Services build these in their startup (lifespan, ``run``), never at import time.
Each service extends :class:`ServiceSettings` with what only it needs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MqttUrl", "ServiceSettings", "parse_mqtt_url"]


class MqttUrl:
    """``mqtt://user:pass@host:port`` or ``mqtts://...`` split into its parts."""

    def __init__(self, *, host: str, port: int, tls: bool, username: str | None,
                 password: str | None) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password


def parse_mqtt_url(url: str) -> MqttUrl:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL {url!r}: scheme must be mqtt:// or mqtts://")
    tls = parts.scheme in ("mqtts", "ssl")
    return MqttUrl(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=parts.username,
        password=parts.password,
    )


class ServiceSettings(BaseSettings):
    """Settings every central service shares: broker, store, district registry."""

    model_config = SettingsConfigDict(env_prefix="NZD_", extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_ca_file: Path | None = None

    influx_url: str | None = None
    """InfluxDB base URL; when unset the embedded SQLite store is used."""
    influx_database: str = "nzd"
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    influx_token: SecretStr | None = None
    """Token for InfluxDB 2.x/3.x (v1 compatibility endpoints)."""
    influx_create_database: bool = True
    """Send ``CREATE DATABASE`` on start (InfluxDB 1.x); false for 2.x/3.x, whose v1 API has no
    DDL: there the database is a DBRP mapping made with the ``influx`` CLI."""
    influx_rollup_after_h: float = 48.0
    """Aggregated history over a longer span reads the 15-minute rollups of ``nzd store init``
    (when the database has them), never raw readings."""
    sqlite_path: Path = Path("var/nzd.sqlite")

    def secret_values(self) -> list[str]:
        """The secrets this service holds, for the logs' redacting filter (``nzd.logs``)."""
        values = [v.get_secret_value() for v in (self.mqtt_password, self.influx_password,
                                                 self.influx_token) if v is not None]
        try:
            url_password = parse_mqtt_url(self.mqtt_url).password
        except ValueError:
            url_password = None
        return [v for v in (*values, url_password) if v]

    district_file: Path = Path("firmware_configs/examples/district.yaml")
    log_level: str = "INFO"
    log_json: bool = True
