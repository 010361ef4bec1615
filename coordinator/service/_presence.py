"""The coordinator's offline alarms: device and gateway presence, alerts over its MQTT link.

Every ``period_s`` the presence state (:mod:`coordinator.presence`) says which alerts to raise
or clear; each is stored as an ALERT event (through the service's event queue, waited for up to
2 s: a store that is down delays the alarm, never stops it) and published at QoS 1 on the
site's alert topic. One the broker does not take is offered again next round. At start, the
alerts still active in the store are read back first (bounded), so a restart does not raise
them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from coordinator.presence import Presence, PresenceKind, PresenceSettings
from coordinator.service._events import EventWriter
from coordinator.service._metrics import CoordinatorMetrics
from coordinator.service._mqtt import MqttLink, NotConnected
from coordinator.settings import CoordinatorSettings
from coordinator.water import active_alerts
from nzd.config import DistrictConfig
from nzd.messages import Alert, encode
from nzd.store.base import Event, EventKind, TelemetryStore
from nzd.topics import alert_topic

__all__ = ["presence_of", "presence_task", "restore_presence"]

log = logging.getLogger(__name__)

#: How far back stored offline alerts are read at start (as the API lists alerts).
_LOOKBACK_MS = 31 * 86_400_000


def presence_of(*, settings: CoordinatorSettings, district: DistrictConfig, now_ms: int) -> Presence:
    """The presence state the service's settings describe, watching from now."""
    return Presence(district=district, now_mono=time.monotonic(), now_ms=now_ms,
                    settings=PresenceSettings(silent_polls=settings.device_silent_polls,
                                              gateway_offline_after_s=settings.gateway_offline_after_s,
                                              default_poll_interval_s=settings.device_poll_interval_s))


async def restore_presence(*, presence: Presence, store: TelemetryStore, district: str, sites: list[str],
                           now_ms: int) -> int:
    """Put the store's active offline alerts into ``presence``; how many there were."""
    found: list[Alert] = []
    for site in sites:
        active = await active_alerts(store=store, district=district, site=site,
                                     since_ms=now_ms - _LOOKBACK_MS, kinds=tuple(PresenceKind))
        found.extend(active.values())
    presence.restore(found)
    return len(found)


async def presence_task(*, presence: Presence, mqtt: MqttLink, events: EventWriter,
                        store: TelemetryStore | None, district: str, metrics: CoordinatorMetrics,
                        period_s: float, restore_timeout_s: float,
                        clock_ms: Callable[[], int]) -> None:
    """Restore (bounded), then publish what changes every ``period_s`` until cancelled."""
    if store is not None:
        try:
            async with asyncio.timeout(restore_timeout_s):
                await events.opened.wait()
                n = await restore_presence(presence=presence, store=store, district=district,
                                           sites=[s.id for s in presence.district.sites], now_ms=clock_ms())
            log.info("offline alarms: %d alerts still active in the store", n)
        except Exception as exc:  # the store is away: alarms work, a restart may repeat an alert
            log.warning("offline alarms: active alerts not read back from the store: %r", exc)
    while True:
        await publish_changes(presence=presence, mqtt=mqtt, events=events, district=district, metrics=metrics)
        await asyncio.sleep(period_s)


async def publish_changes(*, presence: Presence, mqtt: MqttLink, events: EventWriter, district: str,
                          metrics: CoordinatorMetrics, store_wait_s: float = 2.0) -> list[Alert]:
    """One round: publish and store every change; the ones published."""
    done: list[Alert] = []
    for alert in presence.changes(now_mono=time.monotonic()):
        topic = alert_topic(district=district, site=alert.site, alert_id=alert.id)
        events.put(Event(EventKind.ALERT, district, alert.site, alert.ts, alert.id,
                         alert.model_dump(mode="json", exclude_none=True)))
        # Stored before it is published (bounded: a store that is down only delays it), so that a
        # dashboard refreshing its alerts on the live message finds it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(events.drained(), timeout=store_wait_s)
        try:
            await mqtt.publish(topic, encode(alert), qos=1)
        except NotConnected as exc:  # offered again next round (stored again: the same document)
            log.warning("offline alarm %s not published yet: %s", alert.id, exc)
            break
        presence.published(alert)
        change = "raised" if alert.active else "cleared"
        metrics.presence_alerts.labels(kind=alert.kind, change=change).inc()
        if alert.active:
            log.warning("alert %s raised: %s", alert.id, alert.message)
        else:
            log.info("alert %s cleared: %s", alert.id, alert.message)
        done.append(alert)
    return done
