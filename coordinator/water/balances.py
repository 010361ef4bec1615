"""Balance checks the leak check runs each round: the recycled-water network and each firm.

Judged on the last complete local day, from the hourly mean flow of each meter
(hour volume = mean m3/h x 1 h): a day with a missing hour on any meter of a balance
is not judged. One alert per balance while its day's unexplained part stays above the
threshold (``nzd.accounting.balance``); cleared by the first day back under it.

- ``recycled_network_loss``: the reuse plant's output (``supply`` meters) against the
  firms' recycled intake; raised at the supplying site, value = the m3 lost that day,
  threshold = the m3 the threshold share allows.
- ``water_balance``: a firm's intake against its discharge plus declared use (firms
  with a discharge meter only); value = the unexplained m3.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from coordinator.water.alerts import AlertPublisher, WaterAlertKind, active_alerts, alert_id, emit_alert
from nzd.accounting import (
    MeterReadings,
    WaterBalance,
    WaterKpis,
    balance_breaches,
    firm_balance,
    recycled_network_balance,
    site_water_kpis,
)
from nzd.config import DistrictConfig, SiteConfig, WaterMeterRole, WaterSource
from nzd.messages import Alert, AlertSeverity, DeviceKind
from nzd.store import Aggregation, StoreError, TelemetryStore

__all__ = ["BALANCE_MIN_M3", "check_balances"]

log = logging.getLogger(__name__)
FLOW = "water_flow_m3h"
BALANCE_MIN_M3 = 1.0
"""A day's unexplained part below this never alerts (meter rounding on a near-idle day)."""


async def _day_volumes(store: TelemetryStore, *, district: str, site: SiteConfig, day0_ms: int,
                       day1_ms: int) -> dict[str, float]:
    """m3 per meter of the site over the day; a meter with a missing hour is left out."""
    assert site.water is not None
    hours = round((day1_ms - day0_ms) / 3_600_000)
    series = await store.history(district=district, site=site.id, device=None,
                                 kind=DeviceKind.WATER_FLOW_METER, quantities=[FLOW], start_ms=day0_ms,
                                 end_ms=day1_ms, every_s=3600, aggregation=Aggregation.MEAN)
    meters = {m.device for m in site.water.meters}
    out: dict[str, float] = {}
    for s in series:
        if s.device not in meters or FLOW not in s.values:
            continue
        values = [v for ts, v in zip(s.times_ms, s.values[FLOW], strict=True)
                  if day0_ms <= ts < day1_ms and v is not None]
        if len(values) >= hours:
            out[s.device] = float(np.sum(values[:hours]))
    return out


def _kpis(site: SiteConfig, volumes: dict[str, float], edges: np.ndarray) -> WaterKpis | None:
    """One day's KPIs of a site, or None when a meter of it has no complete day."""
    assert site.water is not None
    if any(m.device not in volumes for m in site.water.meters):
        return None
    # Each meter's day as a two-reading totaliser over the day: the KPIs' own role rules apply.
    readings = {device: MeterReadings(times_ms=[int(edges[0]), int(edges[-1])], volume_m3=[0.0, volume])
                for device, volume in volumes.items()}
    return site_water_kpis(water=site.water, readings=readings, edges_ms=edges)


async def check_balances(
    *, store: TelemetryStore, mqtt: AlertPublisher, district: DistrictConfig, now_ms: int,
    min_m3: float = BALANCE_MIN_M3,
) -> tuple[list[Alert], list[Alert], list[str]]:
    """Judge yesterday's balances; returns (raised, cleared, errors)."""
    tz = ZoneInfo(district.timezone)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    day = today - timedelta(days=1)
    day0 = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)
    day1 = int(datetime(today.year, today.month, today.day, tzinfo=tz).timestamp() * 1000)
    edges = np.asarray([day0, day1], dtype=np.int64)
    raised: list[Alert] = []
    cleared: list[Alert] = []
    errors: list[str] = []
    suppliers = [s for s in district.sites if s.water is not None
                 and any(m.role is WaterMeterRole.SUPPLY for m in s.water.meters)]
    recycled_sites = [s for s in district.sites if suppliers and s.water is not None and any(
        m.role in (WaterMeterRole.SUPPLY, WaterMeterRole.INTAKE) and m.source is WaterSource.RECYCLED
        for m in s.water.meters)]
    firms = [s for s in district.sites if s.water is not None
             and any(m.role is WaterMeterRole.DISCHARGE for m in s.water.meters)]
    kpis: dict[str, WaterKpis | None] = {}
    for site in {s.id: s for s in recycled_sites + firms}.values():  # only sites some balance needs
        try:
            volumes = await _day_volumes(store, district=district.district, site=site, day0_ms=day0,
                                         day1_ms=day1)
        except StoreError as exc:
            errors.append(f"{site.id}: cannot read the day's flows: {exc}")
            continue
        kpis[site.id] = _kpis(site, volumes, edges)

    async def judge(site: SiteConfig, kind: WaterAlertKind, device: str | None, balance: WaterBalance,
                    threshold_pct: float, what: str) -> None:
        try:
            active = await active_alerts(store=store, district=district.district, site=site.id,
                                         since_ms=now_ms - 90 * 86_400_000)
            key = (kind.value, device or "")
            lost, went_in = float(balance.unexplained_m3[0]), float(balance.in_m3[0])
            limit = threshold_pct / 100.0 * went_in
            breach = bool(balance_breaches(balance, threshold_pct=threshold_pct, min_m3=min_m3)[0])
            if breach and key not in active:
                alert = Alert(
                    id=alert_id(kind, site=site.id, device=device or "balance", stamp=day.strftime("%Y%m%d")),
                    site=site.id, kind=kind.value, severity=AlertSeverity.WARNING, ts=now_ms, device=device,
                    value=round(lost, 3), threshold=round(limit, 3),
                    message=(f"{what} on {day.isoformat()}: {lost:.1f} m3 unexplained "
                             f"({100 * lost / went_in:.1f} % of {went_in:.1f} m3; "
                             f"threshold {threshold_pct:g} %)"))
                await emit_alert(alert, district=district.district, mqtt=mqtt, store=store)
                raised.append(alert)
            elif not breach and key in active:
                alert = active[key].model_copy(update={
                    "active": False, "ts": now_ms, "value": round(lost, 3),
                    "message": f"{what} is back under {threshold_pct:g} % "
                               f"({lost:.1f} m3 on {day.isoformat()})"})
                await emit_alert(alert, district=district.district, mqtt=mqtt, store=store)
                cleared.append(alert)
        except (StoreError, OSError, ValueError) as exc:
            errors.append(f"{site.id}: {kind.value}: {type(exc).__name__}: {exc}")
            log.warning("balance check failed",
                        extra={"site": site.id, "kind": kind.value, "error": repr(exc)})

    parts = [kpis.get(s.id) for s in recycled_sites]
    complete = [p for p in parts if p is not None]
    network = recycled_network_balance(complete) if suppliers and len(complete) == len(parts) else None
    if network is not None:  # every meter of the network has the whole day
        plant = suppliers[0]
        assert plant.water is not None
        supply_meter = next(m.device for m in plant.water.meters if m.role is WaterMeterRole.SUPPLY)
        await judge(plant, WaterAlertKind.RECYCLED_NETWORK, supply_meter, network,
                    district.recycled_loss_threshold_pct, "Recycled-water network loss")
    for site in firms:
        k = kpis.get(site.id)
        if site.water is None or k is None:
            continue
        await judge(site, WaterAlertKind.WATER_BALANCE, None,
                    firm_balance(k, water=site.water, timezone=district.timezone),
                    site.water.balance_threshold_pct, f"Water balance of {site.id}")
    return raised, cleared, errors
