"""Water alerts out: MQTT (QoS 1, on the contract's alert topic) and the store's event log.

An alert is published first and stored second: if the store write fails, the next
check publishes it again under the same id (subscribers see a duplicate, nothing is
lost); the stored event is what the API serves and what stops a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from nzd.messages import Alert, encode
from nzd.store import Event, EventKind, TelemetryStore
from nzd.topics import alert_topic

__all__ = ["AlertPublisher", "WaterAlertKind", "active_alerts", "alert_id", "emit_alert", "episode_id"]


class AlertPublisher(Protocol):
    """What publishes alerts: an ``aiomqtt.Client``, or the coordinator's own MQTT link."""

    async def publish(self, topic: str, payload: bytes, *, qos: int = ...) -> None: ...


class WaterAlertKind(StrEnum):
    NIGHT_FLOW = "night_flow_leak"
    """The minimum night flow is above its baseline by more than the margin."""
    CONTINUOUS_FLOW = "continuous_flow"
    """The flow has not dropped to zero for N hours."""
    RECYCLED_NETWORK = "recycled_network_loss"
    """The recycled network lost more than its threshold share of the reuse plant's output."""
    WATER_BALANCE = "water_balance"
    """A firm's intake is not explained by its discharge and declared use."""


_PREFIX = {WaterAlertKind.NIGHT_FLOW: "leak", WaterAlertKind.CONTINUOUS_FLOW: "flow",
           WaterAlertKind.RECYCLED_NETWORK: "netloss", WaterAlertKind.WATER_BALANCE: "balance"}


def alert_id(kind: WaterAlertKind, *, site: str, device: str, stamp: str) -> str:
    """A stable id: the same episode always gets the same id (identifiers are at most 64 chars)."""
    return episode_id(_PREFIX[kind], site=site, device=device, stamp=stamp)


def episode_id(prefix: str, *, site: str, device: str, stamp: str) -> str:
    """``{prefix}-{site}-{device}-{stamp}``, hashed when longer than an identifier's 64 chars."""
    raw = f"{prefix}-{site}-{device}-{stamp}"
    if len(raw) <= 64:
        return raw
    digest = hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"{prefix}-{stamp}-{digest}"[:64]


async def emit_alert(alert: Alert, *, district: str, mqtt: AlertPublisher, store: TelemetryStore) -> None:
    """Publish ``alert`` on its topic at QoS 1, then store it as an ALERT event keyed by its id."""
    topic = alert_topic(district=district, site=alert.site, alert_id=alert.id)
    await mqtt.publish(topic, encode(alert), qos=1)
    document = alert.model_dump(mode="json", exclude_none=True)
    await store.write_events([Event(kind=EventKind.ALERT, district=district, site=alert.site,
                                    ts_ms=alert.ts, key=alert.id, document=document)])


def _latest_per_key(events: Iterable[Event]) -> dict[str, Event]:
    latest: dict[str, Event] = {}
    for event in events:
        seen = latest.get(event.key)
        if seen is None or event.ts_ms > seen.ts_ms:
            latest[event.key] = event
    return latest


async def active_alerts(
    *, store: TelemetryStore, district: str, site: str, since_ms: int,
    kinds: Iterable[str] = tuple(WaterAlertKind),
) -> dict[tuple[str, str], Alert]:
    """Active alerts of ``kinds`` (water alerts by default) of a site by (kind, device or ""),
    from the newest event of each alert id.

    Stored documents that are not valid alerts are skipped (another writer's bug must
    not stop leak detection).
    """
    events = await store.events(EventKind.ALERT, district=district, site=site, start_ms=since_ms,
                                limit=10_000)
    kinds = {str(k) for k in kinds}
    out: dict[tuple[str, str], Alert] = {}
    for event in _latest_per_key(events).values():
        try:
            # Extra fields (an acknowledgement added by the API) do not make it another alert.
            alert = Alert.model_validate({k: v for k, v in event.document.items() if k in Alert.model_fields})
        except ValidationError:
            continue
        if alert.active and alert.kind in kinds:
            out[(alert.kind, alert.device or "")] = alert
    return out
