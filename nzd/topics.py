"""The topic layout of the MQTT contract, version 1.

``nzd/v1/{district}/{site}/{gateway}/status``     gateway status (retained, will = offline)
``nzd/v1/{district}/{site}/{device}/telemetry``   one reading of one device
``nzd/v1/{district}/{site}/setpoint/{asset}``     setpoint for an asset
``nzd/v1/{district}/{site}/ack/{asset}``          result of a setpoint
``nzd/v1/{district}/{site}/alert/{alert_id}``     an alert raised for a site
``nzd/v1/{district}/{site}/confirm/{device}``     seqs of a device's readings the store holds
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nzd.errors import ContractError
from nzd.identifiers import RESERVED_NAMES, check_identifier

__all__ = [
    "DEADLETTER_TOPIC",
    "TOPIC_ROOT",
    "Topic",
    "TopicKind",
    "ack_topic",
    "alert_topic",
    "confirm_topic",
    "parse_topic",
    "setpoint_topic",
    "site_filter",
    "status_topic",
    "telemetry_topic",
]

TOPIC_ROOT = "nzd/v1"
#: Where ingest publishes what it cannot store, with the reason; only the operator's API reads
#: it. Not a contract topic (four levels), so the telemetry subscription never sees it.
DEADLETTER_TOPIC = f"{TOPIC_ROOT}/deadletter/ingest"


class TopicKind(StrEnum):
    STATUS = "status"
    TELEMETRY = "telemetry"
    SETPOINT = "setpoint"
    ACK = "ack"
    ALERT = "alert"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class Topic:
    kind: TopicKind
    district: str
    site: str
    name: str
    """The gateway (status), device (telemetry, confirm), asset (setpoint, ack) or alert id."""

    def __str__(self) -> str:
        return _build(self.kind, self.district, self.site, self.name)


def _check(field: str, value: str, *, reserved: bool = True) -> None:
    if not check_identifier(value):
        raise ContractError(field=field, value=value, reason="must match [a-z0-9_-]{1,64}")
    if reserved and value in RESERVED_NAMES:
        raise ContractError(field=field, value=value, reason="is a reserved topic segment")


def _build(kind: TopicKind, district: str, site: str, name: str) -> str:
    _check("district", district)
    _check("site", site)
    _check("name", name)
    if kind in (TopicKind.STATUS, TopicKind.TELEMETRY):
        return f"{TOPIC_ROOT}/{district}/{site}/{name}/{kind.value}"
    return f"{TOPIC_ROOT}/{district}/{site}/{kind.value}/{name}"


def status_topic(*, district: str, site: str, gateway: str) -> str:
    return _build(TopicKind.STATUS, district, site, gateway)


def telemetry_topic(*, district: str, site: str, device: str) -> str:
    return _build(TopicKind.TELEMETRY, district, site, device)


def setpoint_topic(*, district: str, site: str, asset: str) -> str:
    return _build(TopicKind.SETPOINT, district, site, asset)


def ack_topic(*, district: str, site: str, asset: str) -> str:
    return _build(TopicKind.ACK, district, site, asset)


def alert_topic(*, district: str, site: str, alert_id: str) -> str:
    return _build(TopicKind.ALERT, district, site, alert_id)


def confirm_topic(*, district: str, site: str, device: str) -> str:
    return _build(TopicKind.CONFIRM, district, site, device)


def site_filter(kind: TopicKind, *, district: str = "+", site: str = "+") -> str:
    """A subscription filter for one kind of topic, ``+`` meaning any."""
    for field, value in (("district", district), ("site", site)):
        if value != "+":
            _check(field, value)
    if kind in (TopicKind.STATUS, TopicKind.TELEMETRY):
        return f"{TOPIC_ROOT}/{district}/{site}/+/{kind.value}"
    return f"{TOPIC_ROOT}/{district}/{site}/{kind.value}/+"


def parse_topic(topic: str) -> Topic:
    """Parse a concrete topic; raises :class:`ContractError` if it is not one of the contract's."""
    if not isinstance(topic, str):
        raise ContractError(field="topic", value=topic, reason="must be a string")
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "nzd" or parts[1] != "v1":
        raise ContractError(
            field="topic", value=topic, reason="must be nzd/v1/{district}/{site}/{a}/{b}"
        )
    district, site, a, b = parts[2:]
    _check("district", district)
    _check("site", site)
    if b in (TopicKind.STATUS, TopicKind.TELEMETRY):
        _check("name", a)
        return Topic(TopicKind(b), district, site, a)
    if a in (TopicKind.SETPOINT, TopicKind.ACK, TopicKind.ALERT, TopicKind.CONFIRM):
        _check("name", b)
        return Topic(TopicKind(a), district, site, b)
    raise ContractError(field="topic", value=topic, reason="unknown topic kind")
