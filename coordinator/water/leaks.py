"""The leak check the coordinator runs periodically: store history in, alerts out.

Call ``await check_leaks(store=..., mqtt=..., district=...)`` every 15 minutes or
so (or run :func:`leak_check_loop` as a task). Each call is idempotent: an alert is
raised once per episode (one active alert per meter and kind, looked up in the
store) and cleared (published again with ``active=false``) when the episode ends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiomqtt
import numpy as np

from coordinator.water.alerts import AlertPublisher, WaterAlertKind, active_alerts, alert_id, emit_alert
from coordinator.water.balances import check_balances
from coordinator.water.continuous import ContinuousFlowSettings, continuous_flow
from coordinator.water.nightflow import FloatArray, NightFlow, NightFlowSettings, analyse_nights
from nzd.accounting.water_calendar import NIGHT_SHIFT_LOOKBACK_DAYS, declared_night_shifts
from nzd.clock import district_clock
from nzd.config import DistrictConfig, SiteConfig, WaterMeterConfig
from nzd.messages import Alert, AlertSeverity, DeviceKind
from nzd.store import Aggregation, EventKind, StoreError, TelemetryStore

__all__ = ["LeakCheckReport", "LeakSettings", "check_leaks", "leak_check_loop"]

log = logging.getLogger(__name__)
FLOW = "water_flow_m3h"
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class LeakSettings:
    night: NightFlowSettings = field(default_factory=NightFlowSettings)
    continuous: ContinuousFlowSettings = field(default_factory=ContinuousFlowSettings)
    """Zero level and gap rule; the hours come from each meter's ``continuous_flow_hours``."""
    bucket_s: int = 60
    """The flow history is read as means per bucket of this length."""

    @property
    def lookback_ms(self) -> int:
        nights_ms = (self.night.baseline_nights + 2) * _DAY_MS
        return max(nights_ms, int((self.continuous.hours + 2) * 3_600_000))

    def lookback_for(self, meter: WaterMeterConfig) -> int:
        hours = meter.continuous_flow_hours or 0.0
        return max(self.lookback_ms, int((hours + 2) * 3_600_000))


@dataclass(slots=True)
class LeakCheckReport:
    meters_checked: int = 0
    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """One line per meter that could not be checked (store down, bad data); the rest went on."""


async def check_leaks(
    *, store: TelemetryStore, mqtt: AlertPublisher, district: DistrictConfig,
    now_ms: int | None = None, settings: LeakSettings | None = None,
) -> LeakCheckReport:
    """Check every water meter of every site for night-flow leaks and continuous flow, and
    yesterday's water balances (:func:`coordinator.water.balances.check_balances`)."""
    cfg = settings or LeakSettings()
    now = district_clock().now_ms() if now_ms is None else now_ms
    report = LeakCheckReport()
    for site in district.sites:
        if site.water is None or not site.water.meters:
            continue
        try:
            active = await active_alerts(store=store, district=district.district, site=site.id,
                                         since_ms=now - 90 * _DAY_MS)
            shifts = declared_night_shifts(
                await store.events(EventKind.STATUS, district=district.district, site=site.id,
                                   start_ms=now - NIGHT_SHIFT_LOOKBACK_DAYS * _DAY_MS, limit=10_000),
                registry=site.water.night_shifts)
        except StoreError as exc:
            report.errors.append(f"{site.id}: cannot read alerts: {exc}")
            log.warning("leak check: cannot read alerts", extra={"site": site.id, "error": str(exc)})
            continue
        for meter in site.water.meters:
            try:
                await _check_meter(store=store, mqtt=mqtt, district=district, site=site, meter=meter,
                                   active=active, now_ms=now, cfg=cfg, report=report, shifts=shifts)
                report.meters_checked += 1
            except (StoreError, aiomqtt.MqttError, OSError, ValueError, KeyError) as exc:
                # OSError: the broker link is down (ConnectionError); KeyError: an unknown
                # timezone (ZoneInfoNotFoundError).
                report.errors.append(f"{site.id}/{meter.device}: {type(exc).__name__}: {exc}")
                log.warning("leak check failed for a meter", extra={
                    "site": site.id, "device": meter.device, "error": repr(exc)})
    try:
        raised, cleared, errors = await check_balances(store=store, mqtt=mqtt, district=district, now_ms=now)
    except (aiomqtt.MqttError, OSError) as exc:
        report.errors.append(f"balances: {type(exc).__name__}: {exc}")
    else:
        report.raised += raised
        report.cleared += cleared
        report.errors += errors
    return report


async def _flow_history(
    *, store: TelemetryStore, district: str, site: str, device: str, now_ms: int, lookback_ms: int,
    bucket_s: int,
) -> tuple[FloatArray, FloatArray]:
    series = await store.history(
        district=district, site=site, device=device, kind=DeviceKind.WATER_FLOW_METER,
        quantities=[FLOW], start_ms=now_ms - lookback_ms, end_ms=now_ms,
        every_s=bucket_s, aggregation=Aggregation.MEAN)
    times: list[int] = []
    flows: list[float | None] = []
    for s in series:
        if s.device == device and FLOW in s.values:
            times += s.times_ms
            flows += s.values[FLOW]
    t = np.asarray(times, dtype=np.float64) / 1000.0
    f = np.asarray([np.nan if v is None else v for v in flows], dtype=np.float64)
    return t, f


async def _check_meter(
    *, store: TelemetryStore, mqtt: AlertPublisher, district: DistrictConfig, site: SiteConfig,
    meter: WaterMeterConfig, active: dict[tuple[str, str], Alert], now_ms: int, cfg: LeakSettings,
    report: LeakCheckReport, shifts: set[date],
) -> None:
    t, f = await _flow_history(store=store, district=district.district, site=site.id,
                               device=meter.device, now_ms=now_ms,
                               lookback_ms=cfg.lookback_for(meter), bucket_s=cfg.bucket_s)
    if t.size == 0:
        return

    async def emit(alert: Alert, into: list[Alert]) -> None:
        await emit_alert(alert, district=district.district, mqtt=mqtt, store=store)
        into.append(alert)
        log.info("water alert", extra={"alert": alert.id, "kind": alert.kind, "active": alert.active})

    night_cfg = cfg.night if meter.leak_margin_m3h is None else replace(
        cfg.night, margin_m3h=meter.leak_margin_m3h)
    assert site.water is not None
    nights = analyse_nights(t, f, quiet_start=meter.quiet_start, quiet_end=meter.quiet_end,
                            timezone=district.timezone, settings=night_cfg, shift_nights=shifts,
                            legit_night_use_m3h=meter.legit_night_use_m3h,
                            hour_day_factor_h=site.water.hour_day_factor_h, now_s=now_ms / 1000.0)
    night_key = (WaterAlertKind.NIGHT_FLOW.value, meter.device)
    last = next((n for n in reversed(nights) if n.min_flow_m3h is not None), None)
    if last is not None and last.min_flow_m3h is not None:
        if last.leak and night_key not in active:
            assert last.baseline_m3h is not None and last.threshold_m3h is not None
            await emit(Alert(
                id=alert_id(WaterAlertKind.NIGHT_FLOW, site=site.id, device=meter.device,
                            stamp=last.night.strftime("%Y%m%d")),
                site=site.id, kind=WaterAlertKind.NIGHT_FLOW.value, severity=AlertSeverity.WARNING,
                ts=now_ms, device=meter.device, value=round(last.min_flow_m3h, 4),
                threshold=round(last.threshold_m3h, 4),
                message=(f"Possible leak at {meter.device}: minimum night flow "
                         f"{last.min_flow_m3h:.3f} m3/h in the quiet window {meter.quiet_start}-"
                         f"{meter.quiet_end} of {last.night.isoformat()}"
                         f"{' (so far: the night is not over)' if last.in_progress else ''} is above its "
                         f"{last.night_type.value}-night baseline {last.baseline_m3h:.3f} m3/h (threshold "
                         f"{last.threshold_m3h:.3f} m3/h); {_leakage_text(last, meter, site)}")),
                report.raised)
        elif not last.leak and night_key in active and _back_to_normal(
                last.min_flow_m3h, last.threshold_m3h, active[night_key]):
            old = active[night_key]
            await emit(old.model_copy(update={
                "active": False, "ts": now_ms, "value": round(last.min_flow_m3h, 4),
                "message": f"Night flow at {meter.device} is back to normal "
                           f"({last.min_flow_m3h:.3f} m3/h on {last.night.isoformat()})"}),
                report.cleared)

    flow_key = (WaterAlertKind.CONTINUOUS_FLOW.value, meter.device)
    if meter.continuous_flow_hours is None:
        return
    flow_cfg = replace(cfg.continuous, hours=meter.continuous_flow_hours)
    run = continuous_flow(t, f, settings=flow_cfg)
    if run is not None and flow_key not in active:
        since = datetime.fromtimestamp(run.flowing_since_s, ZoneInfo(district.timezone))
        await emit(Alert(
            id=alert_id(WaterAlertKind.CONTINUOUS_FLOW, site=site.id, device=meter.device,
                        stamp=since.strftime("%Y%m%d%H%M")),
            site=site.id, kind=WaterAlertKind.CONTINUOUS_FLOW.value, severity=AlertSeverity.CRITICAL,
            ts=now_ms, device=meter.device, value=round(run.min_flow_m3h, 4),
            threshold=flow_cfg.zero_m3h,
            message=(f"Continuous flow at {meter.device}: the flow has not dropped to zero for "
                     f"{run.hours:.1f} h (since {since:%Y-%m-%d %H:%M}, "
                     f"lowest {run.min_flow_m3h:.3f} m3/h)")),
            report.raised)
    elif run is None and flow_key in active:
        old = active[flow_key]
        after = np.isfinite(f) & (t * 1000 >= old.ts)
        if np.any(f[after] <= flow_cfg.zero_m3h):
            await emit(old.model_copy(update={
                "active": False, "ts": now_ms,
                "message": f"The flow at {meter.device} has dropped to zero again"}), report.cleared)


def _leakage_text(night: NightFlow, meter: WaterMeterConfig, site: SiteConfig) -> str:
    assert site.water is not None
    volume = night.leakage_m3_per_day or 0.0
    text = (f"estimated leakage {volume:.1f} m3/day (night flow less {meter.legit_night_use_m3h:.2f} m3/h "
            f"of legitimate use, x {site.water.hour_day_factor_h:g} h)")
    price = site.water.price_eur_per_m3.get(meter.source) if meter.source is not None else None
    return text if price is None else f"{text}, about {volume * price:.2f} EUR/day"


def _back_to_normal(min_flow_m3h: float, threshold_m3h: float | None, alert: Alert) -> bool:
    # After a long leak no clean night is left for a baseline: judge by the alert's own threshold.
    limit = threshold_m3h if threshold_m3h is not None else alert.threshold
    return limit is not None and min_flow_m3h <= limit


async def leak_check_loop(
    *, store: TelemetryStore, mqtt: AlertPublisher, district: DistrictConfig,
    interval_s: float = 900.0, settings: LeakSettings | None = None,
) -> None:
    """Run :func:`check_leaks` every ``interval_s`` until cancelled; a failed round is logged."""
    while True:
        report = await check_leaks(store=store, mqtt=mqtt, district=district, settings=settings)
        if report.errors:
            log.warning("leak check finished with errors", extra={"errors": report.errors})
        await asyncio.sleep(interval_s)
