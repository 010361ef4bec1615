"""How far each flexible load has got in today's window, from the setpoints it applied.

Flexible loads have no meter of their own in the registry, so the coordinator counts
what it dispatched and the gateway acknowledged as applied: a load runs at an applied
setpoint's power from its ``valid_from`` until a newer applied setpoint takes over or
it expires. The planner then plans only the rest of the window's energy and lets a
running non-interruptible batch continue instead of moving or repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from nzd.config import DistrictConfig, FlexibleLoadConfig
from nzd.store.base import Event, EventKind, TelemetryStore

__all__ = ["LoadProgress", "LoadStatus", "restore_load_progress"]

_KEEP_MS = 2 * 86_400_000


@dataclass(frozen=True, slots=True)
class LoadStatus:
    delivered_kwh: dict[tuple[str, str], float]
    """Energy delivered in the window open at the plan's start, by ``(site, registry load id)``."""
    running: frozenset[tuple[str, str]]
    """Non-interruptible loads whose applied power just before the plan's start was above zero."""
    running_power_kw: dict[tuple[str, str], float]
    """The power each of those runs at (a batch keeps its power level)."""
    run_kwh: dict[tuple[str, str], float]
    """Interruptible loads running at the plan's start: the energy of the run going on (the
    applied setpoints with power above zero back to back up to the start)."""


@dataclass(frozen=True, slots=True)
class _Applied:
    from_ms: int
    until_ms: int
    power_w: float


class LoadProgress:
    def __init__(self, *, district: DistrictConfig) -> None:
        self._tz = ZoneInfo(district.timezone)
        # Gateway asset name -> registry entry, per site.
        self._loads: dict[tuple[str, str], FlexibleLoadConfig] = {
            (site.id, f.asset or f.id): f for site in district.sites for f in site.flexible_loads}
        self._applied: dict[tuple[str, str], dict[int, _Applied]] = {}

    def is_load(self, *, site: str, asset: str) -> bool:
        return (site, asset) in self._loads

    def applied(self, *, site: str, asset: str, valid_from_ms: int, valid_until_ms: int,
                power_w: float) -> None:
        """A setpoint the load acknowledged as applied; a newer one from the same start replaces it."""
        if (site, asset) not in self._loads:
            return
        entries = self._applied.setdefault((site, asset), {})
        entries[valid_from_ms] = _Applied(valid_from_ms, valid_until_ms, max(power_w, 0.0))
        for old in [t for t in entries if t < valid_from_ms - _KEEP_MS]:
            del entries[old]

    def stopped(self, *, site: str, asset: str, at_ms: int) -> None:
        """The load fell back to its local mode: counted as idle from then on."""
        self.applied(site=site, asset=asset, valid_from_ms=at_ms, valid_until_ms=at_ms + _KEEP_MS,
                     power_w=0.0)

    def status(self, *, start_ms: int) -> LoadStatus:
        delivered: dict[tuple[str, str], float] = {}
        running: set[tuple[str, str]] = set()
        running_power_kw: dict[tuple[str, str], float] = {}
        run_kwh: dict[tuple[str, str], float] = {}
        for (site, asset), load in self._loads.items():
            window = self._window(load, start_ms)
            if window is None:
                continue
            entries = sorted(self._applied.get((site, asset), {}).values(), key=lambda a: a.from_ms)
            kwh = 0.0
            spans: list[tuple[int, int, float]] = []
            for i, a in enumerate(entries):
                superseded_ms = entries[i + 1].from_ms if i + 1 < len(entries) else a.until_ms
                end = min(a.until_ms, start_ms, superseded_ms)
                begin = max(a.from_ms, window[0])
                if end > begin:
                    kwh += a.power_w / 1000.0 * (end - begin) / 3_600_000
                    spans.append((begin, end, a.power_w))
            key = (site, load.id)
            delivered[key] = kwh
            if load.interruptible and spans and spans[-1][1] == start_ms and spans[-1][2] > 0:
                run, edge = 0.0, start_ms
                for begin, end, power_w in reversed(spans):  # back to the run's start
                    if power_w <= 0 or end != edge:
                        break
                    run += power_w / 1000.0 * (end - begin) / 3_600_000
                    edge = begin
                run_kwh[key] = run
            before = [a for a in entries if a.from_ms < start_ms]
            if (not load.interruptible and before and before[-1].power_w > 0
                    and before[-1].until_ms >= start_ms and kwh < load.energy_kwh - 1e-9):
                running.add(key)
                running_power_kw[key] = before[-1].power_w / 1000.0
        return LoadStatus(delivered_kwh=delivered, running=frozenset(running),
                          running_power_kw=running_power_kw, run_kwh=run_kwh)

    def _window(self, load: FlexibleLoadConfig, start_ms: int) -> tuple[int, int] | None:
        """Today's window (local time) when it is open at ``start_ms``, as the planner sees it."""
        day = datetime.fromtimestamp(start_ms / 1000, tz=self._tz).date()
        # As the planner counts it (coordinator.optimiser._windows): midnight plus minutes.
        midnight_ms = int(datetime.combine(day, time(), tzinfo=self._tz).timestamp() * 1000)
        ws, we = (midnight_ms + _minutes(t) * 60_000 for t in (load.earliest_start, load.deadline))
        return (ws, we) if ws < start_ms < we else None


async def restore_load_progress(progress: LoadProgress, *, store: TelemetryStore, district: DistrictConfig,
                                now_ms: int) -> int:
    """Replay the stored acknowledgements of flexible loads (with the setpoints they answer) of the
    last two days into ``progress``, so that a restarted coordinator neither repeats a batch that
    already ran nor moves one that is running. Returns how many were replayed."""
    start_ms = now_ms - _KEEP_MS
    replayed = 0
    for site in district.sites:
        if not site.flexible_loads:
            continue
        setpoints = await store.events(EventKind.SETPOINT, district=district.district, site=site.id,
                                       start_ms=start_ms - _KEEP_MS, limit=100_000)
        acks = await store.events(EventKind.ACK, district=district.district, site=site.id,
                                  start_ms=start_ms, limit=100_000)
        by_key: dict[str, Event] = {e.key: e for e in setpoints}
        for ack in sorted(acks, key=lambda e: e.ts_ms):
            doc = ack.document
            asset, result = doc.get("asset"), doc.get("result")
            if not isinstance(asset, str) or not progress.is_load(site=site.id, asset=asset):
                continue
            if result == "fallback":
                progress.stopped(site=site.id, asset=asset, at_ms=ack.ts_ms)
                replayed += 1
            elif result == "applied":
                sp = by_key.get(f"{asset}:{doc.get('setpoint_id')}")
                if sp is None:
                    continue  # its setpoint is older than the store kept
                try:
                    valid_from, valid_until = int(sp.document["valid_from"]), int(sp.document["valid_until"])
                    value = doc.get("value")
                    power_w = float(value if value is not None else sp.document["value"])
                except (KeyError, TypeError, ValueError):
                    continue
                progress.applied(site=site.id, asset=asset, valid_from_ms=valid_from,
                                 valid_until_ms=valid_until, power_w=power_w)
                replayed += 1
    return replayed


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
