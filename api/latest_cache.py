"""Each site's newest reading per device, in memory: what ``/latest`` and the power flows serve.

The table is filled from the store (the readings of the last ``latest_lookback_s``, then the
devices silent for longer, which are marked old), kept current by the API's live MQTT
subscription and refreshed from the store every ``latest_refresh_s`` (for what the
subscription missed while it was disconnected). Merging follows the store's ``latest()``:
each quantity keeps its newest value; ``seq``, quality flags and ``replayed`` come from the
newest reading; an older reading (replayed out of a gateway's buffer) never rolls a value back.

Bounded whatever the gateways send: only the registry's sites; the registry's devices plus
others up to ``latest_max_devices`` a site (as ingest's per-site limit, so what the store holds);
``latest_max_quantities`` quantities a device; what is over the bound is counted
(``nzd_api_latest_refused_total``) and logged.

Responses are serialised once per change: a site's JSON is kept until a reading of that
site arrives or one of its readings turns old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from api.flows import Flows, site_flows, sum_flows
from api.metrics import ApiMetrics
from nzd.clock import district_clock
from nzd.config import DistrictConfig, SiteConfig
from nzd.messages import DeviceKind
from nzd.store.base import Reading, StoreError, TelemetryStore

__all__ = ["LatestTable", "keep_filled"]

log = logging.getLogger("api.latest")

_NEVER_MS = 2**62
_LOG_EVERY_S = 60.0
_AFTER_RECONNECT_S = 2.0


@dataclass(slots=True)
class _Entry:
    kind: DeviceKind
    ts_ms: int
    seq: int
    replayed: bool
    quality: dict[str, str]
    values: dict[str, float]
    value_ts: dict[str, int]


class LatestTable:
    def __init__(self, *, district: DistrictConfig, metrics: ApiMetrics, lookback_s: float,
                 max_devices: int, max_quantities: int) -> None:
        self.district = district
        self.metrics = metrics
        self.lookback_ms = int(lookback_s * 1000)
        self.max_devices = max_devices
        self.max_quantities = max_quantities
        self._sites: dict[str, dict[tuple[str, str], _Entry]] = {s.id: {} for s in district.sites}
        self._configs: dict[str, SiteConfig] = {s.id: s for s in district.sites}
        self._registry: dict[str, frozenset[str]] = {s.id: district.devices_of(s.id) for s in district.sites}
        self._json: dict[str, tuple[bytes, int]] = {}
        self._flows: dict[str, Flows] = {}
        self._flows_json: dict[str, bytes] = {}
        self._district: dict[tuple[int, ...] | None, tuple[Flows, int, bytes]] = {}
        self._filled = False
        self._fill_lock = asyncio.Lock()
        self.refresh_soon = asyncio.Event()
        """Set by the live subscription when it reconnects: what it missed is in the store."""
        self._last_log_s: dict[str, float] = {}

    # updates -------------------------------------------------------------

    def update(self, r: Reading) -> bool:
        """Merge one reading; False when it is refused (unknown site, over a bound)."""
        devices = self._sites.get(r.site)
        if devices is None:
            return self._refuse("unknown_site", f"site {r.site!r} is not in the registry")
        key = (r.device, DeviceKind(r.kind).value)
        entry = devices.get(key)
        if entry is None:
            # The registry's devices always get in: invented names cannot crowd out the meters.
            if len(devices) >= self.max_devices and r.device not in self._registry[r.site]:
                return self._refuse("devices", f"site {r.site!r} already has {len(devices)} devices; "
                                               f"{r.device!r} is not kept (NZD_LATEST_MAX_DEVICES)")
            entry = devices[key] = _Entry(DeviceKind(r.kind), r.ts_ms, r.seq, r.replayed, {}, {}, {})
            changed = True
        else:
            changed = False
        over = 0
        for q, v in r.values.items():
            seen = entry.value_ts.get(q)
            if seen is None and len(entry.values) >= self.max_quantities:
                over += 1
            elif seen is None or r.ts_ms > seen or (r.ts_ms == seen and entry.values[q] != v):
                entry.values[q] = float(v)
                entry.value_ts[q] = r.ts_ms
                changed = True
        if r.ts_ms >= entry.ts_ms:
            quality = dict(list(r.quality.items())[:self.max_quantities])
            flags = (r.ts_ms, r.seq, r.replayed, quality)
            if flags != (entry.ts_ms, entry.seq, entry.replayed, entry.quality):
                entry.ts_ms, entry.seq, entry.replayed, entry.quality = flags
                changed = True
        if changed:
            self._changed(r.site)
        if over:
            self._refuse("quantities", f"{r.site}/{r.device}: {over} quantities over "
                                       f"{self.max_quantities} not kept (NZD_LATEST_MAX_QUANTITIES)")
        return True

    def _changed(self, site: str) -> None:
        self._json.pop(site, None)
        self._flows.pop(site, None)
        self._flows_json.pop(site, None)
        self._district.clear()

    def _refuse(self, reason: str, detail: str) -> bool:
        self.metrics.latest_refused.labels(reason).inc()
        now_s = time.monotonic()
        if now_s - self._last_log_s.get(reason, -_LOG_EVERY_S) >= _LOG_EVERY_S:
            self._last_log_s[reason] = now_s
            log.warning("latest values: %s (logged at most once a minute)", detail)
        return False

    # filling from the store ---------------------------------------------

    @property
    def filled(self) -> bool:
        return self._filled

    async def fill(self, store: TelemetryStore, *, silent_too: bool) -> int:
        """Merge the store's readings of the lookback (and of devices silent longer); returns how many."""
        since_ms = district_clock().now_ms() - self.lookback_ms
        district = self.district.district
        readings = await store.latest(district=district, since_ms=since_ms)
        if silent_too:
            readings += await store.latest_silent(district=district, since_ms=since_ms)
        for r in readings:
            self.update(r)
        return len(readings)

    async def ensure_filled(self, store: TelemetryStore) -> None:
        """Fill once from the store (raises StoreError while it is down); free once done."""
        if self._filled:
            return
        async with self._fill_lock:
            if not self._filled:
                await self.fill(store, silent_too=True)
                self._filled = True

    # reads ---------------------------------------------------------------

    def readings(self, site: str, device: str | None = None) -> list[Reading]:
        return [Reading(district=self.district.district, site=site, device=d, kind=e.kind, ts_ms=e.ts_ms,
                        seq=e.seq, values=dict(e.values), replayed=e.replayed, quality=dict(e.quality))
                for (d, _), e in sorted(self._sites.get(site, {}).items()) if device is None or d == device]

    def _rows(self, site: str, items: Iterable[tuple[tuple[str, str], _Entry]],
              now_ms: int) -> tuple[list[dict[str, object]], int]:
        rows: list[dict[str, object]] = []
        valid_until = _NEVER_MS
        for (device, kind), e in sorted(items):
            old_at = e.ts_ms + self.lookback_ms
            old = now_ms >= old_at
            if not old:
                valid_until = min(valid_until, old_at)
            rows.append({"site": site, "device": device, "kind": kind, "ts_ms": e.ts_ms, "values": e.values,
                         "seq": e.seq, "quality": e.quality, "replayed": e.replayed, "old": old})
        return rows, valid_until

    def site_json(self, site: str, *, device: str | None = None) -> bytes:
        """The ``/latest`` body (a list of ReadingOut), serialised once per change of the site."""
        now_ms = district_clock().now_ms()
        devices = self._sites.get(site, {})
        if device is not None:
            rows, _ = self._rows(site, ((k, e) for k, e in devices.items() if k[0] == device), now_ms)
            return orjson.dumps(rows)
        cached = self._json.get(site)
        if cached is not None and now_ms < cached[1]:
            return cached[0]
        rows, valid_until = self._rows(site, devices.items(), now_ms)
        body = orjson.dumps(rows)
        self._json[site] = (body, valid_until)
        return body

    def _by_device(self, site: str) -> dict[str, tuple[int, dict[str, float]]]:
        return {device: (e.ts_ms, e.values) for (device, _), e in self._sites.get(site, {}).items()}

    def site_flows(self, site: str) -> Flows:
        flows = self._flows.get(site)
        if flows is None:
            flows = self._flows[site] = site_flows(self._configs[site], self._by_device(site))
        return flows

    def site_flows_json(self, site: str) -> bytes:
        body = self._flows_json.get(site)
        if body is None:
            body = self._flows_json[site] = self.site_flows(site).model_dump_json().encode()
        return body

    def sites_reporting(self) -> int:
        return sum(1 for devices in self._sites.values() if devices)

    def site_ids(self) -> list[str]:
        """The registry's sites, in the order ``district_flows`` takes ``hidden`` indexes in."""
        return list(self._sites)

    def district_flows(self, *, hidden: tuple[int, ...] | None) -> tuple[Flows, int, bytes]:
        """District totals as a viewer may see them (``hidden``: ``Principal.hidden_indexes`` of
        :meth:`site_ids`; None: plain totals), how many sites contribute, and the JSON; kept per
        viewer's ``hidden`` until the next reading."""
        cached = self._district.get(hidden)
        if cached is None:
            parts = [self.site_flows(s) if devices else Flows() for s, devices in self._sites.items()]
            flows = sum_flows(parts, hidden=hidden)
            contributing = sum(p.ts_ms is not None for p in parts)
            cached = self._district[hidden] = (flows, contributing, flows.model_dump_json().encode())
        return cached


async def keep_filled(table: LatestTable, store: TelemetryStore, *, every_s: float) -> None:
    """Fill the table once, then merge the store's lookback every ``every_s``, until cancelled.

    The refresh brings what the live subscription missed (a broker reconnect: then it comes
    at once); a failing store is logged and retried at the next turn.
    """

    while True:
        try:
            if table.filled:
                await table.fill(store, silent_too=False)
            else:
                await table.ensure_filled(store)
        except StoreError as exc:
            log.warning("could not refresh the latest values from the store: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(table.refresh_soon.wait(), every_s if table.filled else min(every_s, 5.0))
            table.refresh_soon.clear()
            await asyncio.sleep(_AFTER_RECONNECT_S)  # let ingest store what it was holding
