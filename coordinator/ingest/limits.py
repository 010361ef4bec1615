"""Per-site limits at ingest: devices, quantity names and message rate of one site account.

A gateway account may publish only on its own site's topics (the broker's ACL), but there it
may invent any device and quantity name. Each new device is a new InfluxDB series and each new
quantity a new field of the device kind's measurement, shared by every site: 20,000 invented
names took InfluxDB down. So ingest admits, per site (``district/site``, i.e. per gateway
account):

- at most ``max_devices`` distinct devices,
- at most ``max_quantities`` distinct quantity names,
- at most ``messages_per_s`` messages per second on average, ``burst`` at once (a token
  bucket: a gateway replaying its backlog after an outage sends ``replay_per_s``, 500/s by
  default, on top of its live readings).

What is over a limit is refused (the worker dead-letters it and counts it), and the first
refusal of each limit raises an alert for the site, again at most every ``alert_every_s``.
Known names stay admitted; names are remembered by this worker only (with several workers each
enforces the limits on its share of the stream).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from enum import StrEnum

from nzd.clock import district_clock
from nzd.messages import Alert, AlertSeverity
from nzd.store import Reading

__all__ = ["Limit", "LimitSettings", "Refusal", "SiteLimits"]


class Limit(StrEnum):
    DEVICES = "devices"
    QUANTITIES = "quantities"
    RATE = "rate"


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_devices: int = 64
    max_quantities: int = 128
    messages_per_s: float = 2000.0
    burst: int = 20_000
    alert_every_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class Refusal:
    limit: Limit
    reason: str
    alert: Alert | None
    """Set on the refusal that should raise the site's alert (the first of each limit per period)."""


@dataclass(slots=True)
class _Site:
    devices: set[str] = field(default_factory=set)
    quantities: set[str] = field(default_factory=set)
    tokens: float = 0.0
    refill_s: float = 0.0
    refused: dict[Limit, int] = field(default_factory=dict)
    alerted_s: dict[Limit, float] = field(default_factory=dict)


class SiteLimits:
    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self._sites: dict[tuple[str, str], _Site] = {}

    def _site(self, district: str, site: str, now_s: float) -> _Site:
        key = (district, site)
        state = self._sites.get(key)
        if state is None:
            state = self._sites[key] = _Site(tokens=float(self.settings.burst), refill_s=now_s)
        return state

    def admit(self, reading: Reading, *, now_s: float | None = None) -> Refusal | None:
        """None when ``reading`` is within its site's limits (and then remembered), else why not."""
        now_s = time.monotonic() if now_s is None else now_s
        s = self.settings
        state = self._site(reading.district, reading.site, now_s)
        state.tokens = min(float(s.burst), state.tokens + (now_s - state.refill_s) * s.messages_per_s)
        state.refill_s = now_s
        if state.tokens < 1.0:
            return self._refuse(reading, state, Limit.RATE, now_s,
                                f"site {reading.site!r} is over its rate limit of {s.messages_per_s:g} "
                                f"messages/s (burst {s.burst})")
        state.tokens -= 1.0
        if reading.device not in state.devices and len(state.devices) >= s.max_devices:
            return self._refuse(reading, state, Limit.DEVICES, now_s,
                                f"site {reading.site!r} already has {s.max_devices} devices; new device "
                                f"{reading.device!r} refused")
        names = set(reading.values) | set(reading.quality)
        new = names - state.quantities
        if new and len(state.quantities) + len(new) > s.max_quantities:
            shown = ", ".join(sorted(new)[:5])
            return self._refuse(reading, state, Limit.QUANTITIES, now_s,
                                f"site {reading.site!r} already has {len(state.quantities)} quantity names "
                                f"(limit {s.max_quantities}); new names refused: {shown}")
        state.devices.add(reading.device)
        state.quantities.update(new)
        return None

    def _refuse(self, reading: Reading, state: _Site, limit: Limit, now_s: float, reason: str) -> Refusal:
        state.refused[limit] = state.refused.get(limit, 0) + 1
        last = state.alerted_s.get(limit)
        alert = None
        if last is None or now_s - last >= self.settings.alert_every_s:
            state.alerted_s[limit] = now_s
            alert = self._alert(reading, limit, state.refused[limit], reason)
        return Refusal(limit=limit, reason=f"limit exceeded: {reason}", alert=alert)

    def _alert(self, reading: Reading, limit: Limit, refused: int, reason: str) -> Alert:
        s = self.settings
        threshold = {Limit.DEVICES: s.max_devices, Limit.QUANTITIES: s.max_quantities,
                     Limit.RATE: s.messages_per_s}[limit]
        now_ms = district_clock().now_ms()
        # One id per site, limit and hour: a flood that goes on is one alert, not thousands; the
        # site is in the id because the API lists every site's alerts by id.
        stamp = time.strftime("%Y%m%d%H", time.gmtime(now_ms / 1000))
        alert_id = f"limit-{reading.site}-{limit.value}-{stamp}"
        if len(alert_id) > 64:
            digest = hashlib.sha1(alert_id.encode(), usedforsecurity=False).hexdigest()[:16]
            alert_id = f"limit-{limit.value}-{stamp}-{digest}"
        return Alert(id=alert_id, site=reading.site,
                     kind=f"ingest_limit_{limit.value}", severity=AlertSeverity.WARNING, ts=now_ms,
                     message=f"Readings of this site refused at ingest: {reason}. Check the site's "
                             f"gateways: a misconfigured or compromised gateway invents names.",
                     device=reading.device, value=float(refused), threshold=float(threshold))

    def refused(self, district: str, site: str) -> dict[Limit, int]:
        state = self._sites.get((district, site))
        return dict(state.refused) if state else {}
