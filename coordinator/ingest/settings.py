"""Settings of the ingest service (``NZD_INGEST_*`` on top of the shared ``NZD_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nzd.clientid import bound_client_id
from nzd.settings import ServiceSettings, parse_mqtt_url
from nzd.topics import DEADLETTER_TOPIC

__all__ = ["DEADLETTER_TOPIC", "IngestSettings"]



class IngestSettings(ServiceSettings):
    ingest_client_id: str = Field(default="", max_length=64)
    """Fixed MQTT client id: the broker keeps this worker's session (and what it has not
    acknowledged) across restarts. Every worker needs its own. Default: the MQTT username
    (the broker binds the two, see :mod:`nzd.clientid`), or ``nzd-ingest-1`` without one;
    a different id with a username is refused."""
    ingest_share_group: str = Field(default="ingest", pattern=r"^[a-z0-9_-]{0,64}$")
    """Workers in the same group split the telemetry between them. Empty: a plain
    subscription, for a broker without shared subscriptions (the demo's embedded amqtt);
    then run one worker only."""
    ingest_batch_size: int = Field(default=5000, ge=1, le=50_000)
    """Readings per write; a batch is written when full or when it is ``ingest_batch_age_ms`` old."""
    ingest_batch_age_ms: int = Field(default=200, ge=1, le=60_000)
    ingest_max_backlog: int = Field(default=20_000, ge=1, le=65_535)
    """Messages received and not yet acknowledged, at most: the worker stops reading from the
    broker at this mark (and with MQTT 5 also announces it as its receive maximum); while the
    store is down the broker keeps the rest of the stream in the session."""
    ingest_mqtt_protocol: Literal["3.1.1", "5"] = "3.1.1"
    """3.1.1 is the faster to decode in paho-mqtt (MQTT 5 parses properties on every message);
    with 3.1.1 the session lasts until the broker's ``persistent_client_expiration``."""
    ingest_session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    """How long the broker keeps the session of a worker that is gone."""
    ingest_retry_backoff_max_s: float = Field(default=10.0, gt=0)
    ingest_store_retry_total_s: float = Field(default=30.0, gt=0)
    """How long one write call retries before the worker backs off and tries the batch again."""
    ingest_metrics_port: int = Field(default=9102, ge=0, le=65_535)
    """Port of ``/metrics`` (Prometheus) and ``/healthz``; 0 switches them off."""
    ingest_metrics_host: str = "127.0.0.1"
    ingest_deadletter_topic: str = DEADLETTER_TOPIC
    ingest_keepalive_s: int = Field(default=30, ge=5, le=3600)
    ingest_site_max_devices: int = Field(default=64, ge=1)
    """Distinct devices one site's gateways may publish; readings of further devices are
    dead-lettered and an alert raised (coordinator/ingest/limits.py). A factory's gateways
    read some tens of devices; raise it for a bigger site."""
    ingest_site_max_quantities: int = Field(default=128, ge=1)
    """Distinct quantity names per site: four times the profiles' vocabulary (33 names)."""
    ingest_site_messages_per_s: float = Field(default=2000.0, gt=0)
    """Average messages per second per site; a gateway replays its backlog at 500/s by default."""
    ingest_site_burst: int = Field(default=20_000, ge=1)
    """Messages per site accepted at once above the average rate."""
    ingest_limit_alert_every_s: float = Field(default=3600.0, gt=0)
    """A site over a limit raises an alert at most this often (per limit)."""

    @model_validator(mode="after")
    def _client_id_of_the_account(self) -> IngestSettings:
        try:
            username = self.mqtt_username or parse_mqtt_url(self.mqtt_url).username
        except ValueError:
            username = self.mqtt_username  # the CLI reports the bad URL
        self.ingest_client_id = bound_client_id(configured=self.ingest_client_id, username=username,
                                                fallback="nzd-ingest-1", setting="NZD_INGEST_CLIENT_ID")
        return self
