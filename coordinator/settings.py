"""Settings of the coordinator service, from ``NZD_*`` environment variables.

Built in :func:`coordinator.service.run`, never at import time.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from nzd.clientid import bound_client_id
from nzd.settings import ServiceSettings, parse_mqtt_url

__all__ = ["CoordinatorSettings"]


class CoordinatorSettings(ServiceSettings):
    """What only the coordinator needs on top of broker, store and district registry."""

    planning_interval_s: Annotated[float, Field(gt=0, le=86_400)] = 900.0
    """A new plan (and new setpoints) every this many seconds, aligned to the clock."""
    validity_intervals: Annotated[float, Field(ge=1, le=96)] = 2.0
    """A setpoint stays valid this many planning intervals after its interval starts (at least one,
    or the gateways would fall back between plans)."""
    ack_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """No acknowledgement within this time counts as no answer."""
    state_stale_s: Annotated[float, Field(gt=0)] = 300.0
    """Live values older than this are not used for planning (the registry's initial values are)."""
    http_host: str = "127.0.0.1"
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9103
    """Serves ``/healthz`` and ``/metrics``; 0 picks a free port."""
    mqtt_client_id: str = ""
    """Default: the MQTT username, or ``nzd-coordinator`` without one; a different id with a
    username is refused (the broker binds the two, see :mod:`nzd.clientid`)."""
    reconnect_min_s: Annotated[float, Field(gt=0)] = 0.5
    reconnect_max_s: Annotated[float, Field(gt=0)] = 30.0
    solve_time_limit_s: Annotated[float, Field(gt=0)] = 60.0
    mip_gap: Annotated[float, Field(ge=0, le=1)] = 0.01
    history_days: Annotated[int, Field(ge=0, le=366)] = 28
    """Days of stored history the forecasts learn from; 0 plans on live values only."""
    store_events: bool = True
    """Write plans, setpoints and acknowledgements to the store."""
    leak_check_interval_s: Annotated[float, Field(ge=0, le=86_400)] = 900.0
    """Check the water meters for leaks (night flow, continuous flow) every this many seconds;
    0 turns the check off. It needs the store (``store_events``)."""
    leak_bucket_s: Annotated[int, Field(ge=1, le=3600)] = 60
    """The leak check reads flow as means per bucket of this length: at least the meters' period."""

    device_silent_polls: Annotated[float, Field(ge=0, le=10_000)] = 5.0
    """A registry device with no reading for this many of its poll intervals raises ``device_offline``
    (0: only devices their gateway reports failing do)."""
    device_poll_interval_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    """The poll interval assumed for a device no gateway status names (gateways report theirs)."""
    gateway_offline_after_s: Annotated[float, Field(ge=0, le=86_400)] = 30.0
    """A gateway offline (its will or its status) this long raises ``gateway_offline``: a restart does not."""
    presence_check_s: Annotated[float, Field(gt=0, le=3600)] = 1.0
    """How often the offline alarms are evaluated (real seconds)."""

    @model_validator(mode="after")
    def _client_id_of_the_account(self) -> CoordinatorSettings:
        try:
            username = self.mqtt_username or parse_mqtt_url(self.mqtt_url).username
        except ValueError:
            username = self.mqtt_username
        self.mqtt_client_id = bound_client_id(configured=self.mqtt_client_id, username=username,
                                              fallback="nzd-coordinator", setting="NZD_MQTT_CLIENT_ID")
        return self

    @property
    def validity_s(self) -> float:
        return self.planning_interval_s * self.validity_intervals
