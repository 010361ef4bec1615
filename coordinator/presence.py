"""Who is answering: gateway and device presence, turned into offline alerts (pure, no I/O).

A **gateway** is offline when its status (the retained topic, or its last will) says so for
longer than ``gateway_offline_after_s``; its alert clears with its next ``online`` status. Its
devices raise no alerts of their own meanwhile: nothing of theirs could arrive.

A **device** of the registry is offline when its gateway's status reports it failing (the
gateway already tried ``offline_after`` cycles), or when no reading of it has arrived for
``silent_polls`` times its poll interval (the gateway's status tells the interval; a device
no status names is given ``default_poll_interval_s``). Its alert clears with the first
reading newer than the alert's time.

Silence is measured on this process's monotonic clock, in real seconds, when readings
*arrive*, so a gateway's clock that is off (or the demo's simulated time) does not change
it; an alert's times (``ts``: since when; the text) are the readings' district times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from coordinator.water.alerts import episode_id
from nzd.config import DistrictConfig
from nzd.messages import Alert, AlertSeverity, GatewayState, GatewayStatus, Telemetry

__all__ = ["MAX_GATEWAYS_PER_SITE", "Presence", "PresenceKind", "PresenceSettings"]


class PresenceKind(StrEnum):
    GATEWAY_OFFLINE = "gateway_offline"
    DEVICE_OFFLINE = "device_offline"


MAX_GATEWAYS_PER_SITE = 32
"""Gateways watched per site; statuses of further gateway names are ignored."""

_PREFIX = {PresenceKind.GATEWAY_OFFLINE: "gwoff", PresenceKind.DEVICE_OFFLINE: "devoff"}
_SEVERITY = {PresenceKind.GATEWAY_OFFLINE: AlertSeverity.CRITICAL,
             PresenceKind.DEVICE_OFFLINE: AlertSeverity.WARNING}


@dataclass(frozen=True, slots=True)
class PresenceSettings:
    silent_polls: float = 5.0
    """A device silent for this many poll intervals is offline; 0 leaves only what gateways report."""
    gateway_offline_after_s: float = 30.0
    """A gateway offline this long (real seconds) raises its alert: a restart does not."""
    default_poll_interval_s: float = 60.0
    """The poll interval of a device no gateway status names."""


@dataclass(slots=True)
class _Device:
    seen_mono: float
    """When its newest reading arrived (or when watching began)."""
    last_ts_ms: int | None = None
    poll_interval_s: float | None = None
    gateway: str | None = None
    failing: str | None = None
    """What its gateway's status says is wrong, while it says the device is offline."""
    failing_since_ms: int | None = None


@dataclass(slots=True)
class _Gateway:
    online: bool
    changed_mono: float
    since_ms: int
    reason: str | None
    devices: set[str] = field(default_factory=set)


_Key = tuple[PresenceKind, str, str]
"""(kind, site, gateway or device)"""


class Presence:
    """Feed it telemetry and statuses; :meth:`changes` says which alerts to publish now.

    An alert counts as published only after :meth:`published`, so one the broker did not take
    is offered again at the next round (never twice once published: no repeat every loop).
    """

    def __init__(self, *, district: DistrictConfig, settings: PresenceSettings, now_mono: float,
                 now_ms: int) -> None:
        self._district = district
        self._settings = settings
        self._tz = ZoneInfo(district.timezone)
        self._started_ms = now_ms
        self._devices: dict[tuple[str, str], _Device] = {
            (site.id, device): _Device(seen_mono=now_mono)
            for site in district.sites for device in sorted(district.devices_of(site.id))}
        self._gateways: dict[tuple[str, str], _Gateway] = {}
        self._active: dict[_Key, Alert] = {}

    @property
    def district(self) -> DistrictConfig:
        return self._district

    @property
    def active(self) -> dict[_Key, Alert]:
        return dict(self._active)

    # -- what arrives ---------------------------------------------------------------------------

    def on_telemetry(self, site: str, reading: Telemetry, *, now_mono: float) -> None:
        dev = self._devices.get((site, reading.device))
        if dev is None:  # not in the registry: bounded whatever a gateway invents
            return
        if not reading.values:  # only quality flags (a cycle with no answer): nothing was read
            return
        if dev.last_ts_ms is not None and reading.ts <= dev.last_ts_ms:
            return  # a replayed, older reading says nothing about now
        dev.last_ts_ms = reading.ts
        dev.seen_mono = now_mono
        dev.failing = dev.failing_since_ms = None

    def on_status(self, site: str, status: GatewayStatus, *, now_mono: float) -> None:
        online = status.state is GatewayState.ONLINE
        key = (site, status.gateway)
        known = self._gateways.get(key)
        if known is None and sum(1 for s, _ in self._gateways if s == site) >= MAX_GATEWAYS_PER_SITE:
            return  # bounded whatever names a site's account invents
        changed = known is None or known.online != online
        if known is None or changed:
            devices = known.devices if known is not None else set()
            # Since when: the last we heard of it (a will's own time is its connect's).
            heard_ms = max([status.ts, *(d.last_read_ts or 0 for d in status.devices.values()),
                            *(dev.last_ts_ms or 0 for d in devices
                              if (dev := self._devices.get((site, d))) is not None)])
            known = _Gateway(online=online, changed_mono=now_mono, since_ms=heard_ms, reason=status.reason,
                             devices=devices)
            self._gateways[key] = known
        gw = known
        gw.reason = status.reason
        if status.devices:
            gw.devices = set(status.devices)
        if not online:
            return  # a will lists the devices of its connect, not how they are now
        for name, state in status.devices.items():
            dev = self._devices.get((site, name))
            if dev is None:
                continue
            if changed:  # a gateway (re)starting: its devices get their polls again before silence counts
                dev.seen_mono = max(dev.seen_mono, now_mono)
            dev.gateway = status.gateway
            dev.poll_interval_s = state.poll_interval_s or dev.poll_interval_s
            newer_reading = dev.last_ts_ms is not None and dev.last_ts_ms > status.ts
            if state.online or newer_reading or state.errors == 0:  # errors 0: not polled yet
                dev.failing = dev.failing_since_ms = None
            elif dev.failing is None:
                dev.failing = state.detail or "no answer"
                dev.failing_since_ms = state.last_read_ts

    def restore(self, alerts: Iterable[Alert]) -> None:
        """Alerts still active in the store (after a restart): not raised again, cleared as usual."""
        for alert in alerts:
            try:
                kind = PresenceKind(alert.kind)
            except ValueError:
                continue
            subject = alert.device or ""
            if alert.active and subject:
                self._active.setdefault((kind, alert.site, subject), alert)

    # -- what to publish -------------------------------------------------------------------------

    def changes(self, *, now_mono: float) -> list[Alert]:
        """Alerts to raise (``active``) and to clear (``active: false``) now."""
        out: list[Alert] = []
        offline_gateways: set[tuple[str, str]] = set()
        for (site, name), gw in self._gateways.items():
            key = (PresenceKind.GATEWAY_OFFLINE, site, name)
            if not gw.online:
                offline_gateways.add((site, name))
                waited_s = now_mono - gw.changed_mono
                if key not in self._active and waited_s >= self._settings.gateway_offline_after_s:
                    out.append(self._gateway_alert(site, name, gw))
            elif key in self._active:
                out.append(self._cleared(self._active[key], ts_ms=gw.since_ms, text=(
                    f"The gateway {name} of {self._site_name(site)} is back online since "
                    f"{self._local(gw.since_ms)}.")))
        for (site, name), dev in self._devices.items():
            if dev.gateway is not None and (site, dev.gateway) in offline_gateways:
                continue  # the gateway's alert says it all
            key = (PresenceKind.DEVICE_OFFLINE, site, name)
            why = self._offline_why(dev, now_mono)
            active = self._active.get(key)
            if why is not None and active is None:
                out.append(self._device_alert(site, name, dev, why))
            elif why is None and active is not None and dev.last_ts_ms is not None \
                    and dev.last_ts_ms > active.ts:
                out.append(self._cleared(active, ts_ms=dev.last_ts_ms, text=(
                    f"{self._device_name(site, name)} sends readings again since "
                    f"{self._local(dev.last_ts_ms)}.")))
        return out

    def published(self, alert: Alert) -> None:
        key = (PresenceKind(alert.kind), alert.site, alert.device or "")
        if alert.active:
            self._active[key] = alert
        else:
            self._active.pop(key, None)

    # -- helpers ---------------------------------------------------------------------------------

    def _offline_why(self, dev: _Device, now_mono: float) -> str | None:
        if dev.failing is not None:
            return f"its gateway cannot read it: {dev.failing}"
        polls = self._settings.silent_polls
        interval_s = dev.poll_interval_s or self._settings.default_poll_interval_s
        if polls > 0 and now_mono - dev.seen_mono > polls * interval_s:
            return f"no reading for more than {polls:g} polls (one every {interval_s:g} s)"
        return None

    def _gateway_alert(self, site: str, name: str, gw: _Gateway) -> Alert:
        reason = f" ({gw.reason})" if gw.reason else ""
        n = len({d for d in gw.devices if (site, d) in self._devices})
        text = (f"The gateway {name} of {self._site_name(site)} is offline since {self._local(gw.since_ms)}"
                f"{reason}: readings of its {n} devices do not reach nzd, and its assets get no new "
                f"setpoints (the plan keeps them at their safe setting).")
        return self._alert(PresenceKind.GATEWAY_OFFLINE, site, name, since_ms=gw.since_ms, text=text)

    def _device_alert(self, site: str, name: str, dev: _Device, why: str) -> Alert:
        since_ms = dev.last_ts_ms or dev.failing_since_ms or self._started_ms
        last = (f"since {self._local(since_ms)}" if dev.last_ts_ms or dev.failing_since_ms
                else f"since nzd's coordinator started at {self._local(since_ms)}")
        text = f"{self._device_name(site, name)} has sent no reading {last}: {why}."
        return self._alert(PresenceKind.DEVICE_OFFLINE, site, name, since_ms=since_ms, text=text)

    def _alert(self, kind: PresenceKind, site: str, subject: str, *, since_ms: int, text: str) -> Alert:
        stamp = datetime.fromtimestamp(since_ms / 1000, tz=self._tz).strftime("%Y%m%d%H%M%S")
        return Alert(id=episode_id(_PREFIX[kind], site=site, device=subject, stamp=stamp), site=site,
                     kind=kind.value, severity=_SEVERITY[kind], ts=since_ms, message=text, device=subject)

    @staticmethod
    def _cleared(alert: Alert, *, ts_ms: int, text: str) -> Alert:
        # Later than the raise, so that it is the alert's newest state wherever it is stored.
        return alert.model_copy(update={"active": False, "ts": max(ts_ms, alert.ts + 1), "message": text})

    def _site_name(self, site: str) -> str:
        try:
            return self._district.site(site).name or site
        except KeyError:
            return site

    def _device_name(self, site: str, device: str) -> str:
        return f"The device {device} of {self._site_name(site)}"

    def _local(self, ts_ms: int) -> str:
        return datetime.fromtimestamp(ts_ms / 1000, tz=self._tz).strftime("%a %d %b %H:%M")
