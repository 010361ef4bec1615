"""Settings of the API service, from ``NZD_*`` variables; built in the lifespan."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from nzd.settings import ServiceSettings

__all__ = ["MIN_JWT_SECRET_BYTES", "ApiSettings"]

MIN_JWT_SECRET_BYTES = 32


class ApiSettings(ServiceSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    users_file: Path | None = None
    """YAML or JSON file of users (see docs/api.md); without it only the public view works."""
    jwt_secret: SecretStr | None = None
    """HMAC key for dashboard JWTs, at least 32 bytes; a random one per process when unset (logins
    end on restart)."""
    jwt_ttl_s: int = 900
    login_attempts_per_address: int = Field(10, ge=1)
    """Logins one client address may start per ``login_window_s``; more get 429 (api/auth/throttle.py)."""
    login_attempts_per_user: int = Field(20, ge=1)
    """Logins for one user name per ``login_window_s``, from any address."""
    login_window_s: float = Field(60.0, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed to call the API from a browser (CORS); empty: same origin only."""
    live_queue_size: int = 256
    """Events buffered per live-stream client; a client that falls this far behind is dropped."""
    send_buffer_bytes: int | None = 262_144
    """Socket send buffer per connection (None: the kernel's auto-tuning); see api/server.py."""
    store_open_wait_s: float = 15.0
    """How long startup waits for the store before serving without it (and retrying)."""
    store_timeout_s: float = 5.0
    """A request whose store call takes longer gets 503 instead of waiting on the store's retries."""
    max_body_bytes: int = Field(1_048_576, ge=1024)
    """Largest request body accepted; a larger one gets 413 before it is read (api/limits.py)."""
    header_timeout_s: float = Field(10.0, gt=0)
    """A connection must send a request's headers within this (slow clients, api/server.py)."""
    keep_alive_s: int = Field(5, ge=1)
    """An idle keep-alive connection is closed after this."""
    latest_lookback_s: float = Field(3600.0, gt=0)
    """The store's latest() reads this far back; a device silent for longer is listed as old."""
    latest_refresh_s: float = Field(60.0, gt=0)
    """How often the in-memory latest values merge the store's (what the live subscription missed)."""
    latest_max_devices: int = Field(64, ge=1)
    """Devices per site kept in memory besides the registry's (ingest's per-site default); readings
    of further devices are counted and left out."""
    latest_max_quantities: int = Field(64, ge=1)
    """Quantities per device kept in memory; a device of the profiles has fewer than 30."""
    access_log: bool = True
    mqtt_client_id: str | None = None
    kpi_cache_entries: int = Field(256, ge=0)
    """Measured-KPI answers kept in memory until a reading that may change them arrives
    (api/kpi_cache.py); 0 keeps none."""
    kpi_cache_settle_s: float = Field(10.0, ge=0)
    """An answer is not kept when a reading in its range arrived this shortly before it was
    computed: ingest may not have stored it yet."""
    archive_days: int = Field(400, ge=0)
    """Closed days whose measured energy per interval the API keeps in memory for long KPI
    requests (api/energy_archive.py); 0 keeps none (every request reads the counters)."""
    archive_close_after_s: float = Field(3600.0, ge=0)
    """A day is archived this long after it ended (readings still on their way)."""
    archive_every_s: float = Field(600.0, gt=0)
    """How often the background task archives the days that closed (and refills after a reconnect)."""
    archive_delay_s: float = Field(30.0, ge=0)
    """The background task starts this long after the API (startup reads come first)."""
    raw_span_h: float = Field(48.0, gt=0)
    """Energy, KPI and counter requests spanning more than this read the 15-minute rollups (the
    first and last reading of each bucket, at their own times) instead of raw readings."""

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # A short HMAC key can be brute-forced offline from one token, and then any JWT forged.
        if value is not None and len(value.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"NZD_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes; make one with "
                             "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        return value
