"""The coordinator's periodic leak check: water flow from the store, alerts over its MQTT link.

A round that fails (store down, broker away, a bug) is logged and counted; the next
round tries again. The service never stops for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from coordinator.service._metrics import CoordinatorMetrics
from coordinator.water import (
    AlertPublisher,
    LeakCheckReport,
    LeakSettings,
    check_leaks,
    stored_water_severity,
)
from nzd.config import DistrictConfig, WaterSeverity
from nzd.store.base import TelemetryStore

__all__ = ["SeverityReader", "has_water_meters", "leak_check_round", "leak_check_task"]

log = logging.getLogger(__name__)


def has_water_meters(district: DistrictConfig) -> bool:
    return any(site.water is not None and site.water.meters for site in district.sites)


async def leak_check_round(*, store: TelemetryStore, mqtt: AlertPublisher, district: DistrictConfig,
                           now_ms: int, settings: LeakSettings,
                           metrics: CoordinatorMetrics) -> LeakCheckReport | None:
    """One check of every water meter; None when the round failed as a whole."""
    try:
        report = await check_leaks(store=store, mqtt=mqtt, district=district, now_ms=now_ms,
                                   settings=settings)
    except Exception:  # logged and counted; the next round tries again
        metrics.leak_checks.labels(result="failed").inc()
        log.exception("leak check failed")
        return None
    metrics.water_alerts.labels(change="raised").inc(len(report.raised))
    metrics.water_alerts.labels(change="cleared").inc(len(report.cleared))
    if report.errors:
        metrics.leak_checks.labels(result="partial").inc()
        log.warning("leak check: %d meters checked, %d could not be: %s", report.meters_checked,
                    len(report.errors), "; ".join(report.errors))
    else:
        metrics.leak_checks.labels(result="ok").inc()
    log.info("leak check: %d meters checked, %d alerts raised, %d cleared", report.meters_checked,
             len(report.raised), len(report.cleared))
    return report


async def leak_check_task(*, store: TelemetryStore, mqtt: AlertPublisher, district: DistrictConfig,
                          interval_s: float, settings: LeakSettings, metrics: CoordinatorMetrics,
                          ready: Callable[[], Awaitable[None]], clock_s: Callable[[], float]) -> None:
    """Wait for ``ready`` (store open, broker connected), then check every ``interval_s`` until cancelled."""
    await ready()
    while True:
        await leak_check_round(store=store, mqtt=mqtt, district=district, now_ms=int(clock_s() * 1000),
                               settings=settings, metrics=metrics)
        await asyncio.sleep(interval_s)


class SeverityReader:
    """The district's water-severity level for each plan: the operator's newest stored level.

    Starts at the registry's level; when the store cannot be read, the last level read stands.
    """

    def __init__(self, *, store: TelemetryStore | None, district: DistrictConfig, timeout_s: float) -> None:
        self._store = store
        self._district = district.district
        self._timeout_s = timeout_s
        self.level: WaterSeverity = district.water_severity

    async def read(self, *, store_open: bool) -> WaterSeverity:
        if self._store is None or not store_open:
            return self.level
        try:
            level = await asyncio.wait_for(
                stored_water_severity(store=self._store, district=self._district), timeout=self._timeout_s)
        except Exception as exc:  # the store is down or slow: plan with the level we had
            log.warning("water-severity level unavailable, planning at %s: %r", self.level.value, exc)
            return self.level
        if level is not None and level is not self.level:
            log.info("water-severity level is now %s (was %s)", level.value, self.level.value)
            self.level = level
        return self.level
