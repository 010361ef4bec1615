"""The district's live state, kept from MQTT telemetry and gateway status.

The planner starts from it: battery SOC, tank levels, grid meters. A value older
than ``stale_after_s`` is not used; the registry's initial value stands in and
the asset is reported stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coordinator.load_progress import LoadProgress
from nzd.config import DistrictConfig, MeterRole
from nzd.messages import GatewayState, GatewayStatus, Telemetry

__all__ = ["LiveState", "StateSnapshot", "TimedValue"]

#: The quantities the planner reads from live telemetry (see ``snapshot``).
_PLANNED_QUANTITIES = frozenset({"battery_soc_pct", "tank_level_pct", "active_power_w"})


@dataclass(frozen=True, slots=True)
class TimedValue:
    value: float
    ts_ms: int


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """Fresh values at ``now_ms``, keyed by ``(site, registry asset id)`` or site."""

    now_ms: int
    battery_soc_pct: dict[tuple[str, str], float] = field(default_factory=dict)
    tank_level_pct: dict[tuple[str, str], float] = field(default_factory=dict)
    grid_power_w: dict[str, float] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    """``site/asset`` of every asset whose value is missing or too old."""
    gateways_online: dict[tuple[str, str], bool] = field(default_factory=dict)
    load_delivered_kwh: dict[tuple[str, str], float] = field(default_factory=dict)
    """Flexible loads, by ``(site, registry id)``: energy delivered in the window open at the plan's start."""
    load_running: frozenset[tuple[str, str]] = frozenset()
    """Non-interruptible flexible loads running at the plan's start: their batch continues."""
    load_power_kw: dict[tuple[str, str], float] = field(default_factory=dict)
    """Non-interruptible flexible loads running at the plan's start: the power they run at."""
    load_run_kwh: dict[tuple[str, str], float] = field(default_factory=dict)
    """Interruptible flexible loads running at the plan's start: energy of the run going on."""


class LiveState:
    def __init__(self, *, district: DistrictConfig, stale_after_s: float) -> None:
        self._district = district
        self._stale_after_ms = int(stale_after_s * 1000)
        self._values: dict[tuple[str, str, str], TimedValue] = {}
        # Only what the planner reads: bounded by the registry whatever a gateway invents.
        self._wanted = {site.id: district.devices_of(site.id) for site in district.sites}
        self._gateways: dict[tuple[str, str], GatewayStatus] = {}
        self.loads = LoadProgress(district=district)
        """Flexible-load progress, from the setpoints they acknowledged as applied."""

    @property
    def district(self) -> DistrictConfig:
        return self._district

    def on_telemetry(self, site: str, reading: Telemetry) -> None:
        if reading.device not in self._wanted.get(site, ()):
            return
        for quantity, value in reading.values.items():
            if quantity not in _PLANNED_QUANTITIES:
                continue
            key = (site, reading.device, quantity)
            known = self._values.get(key)
            # Replayed readings from a gateway's buffer are older than what we hold.
            if known is None or reading.ts >= known.ts_ms:
                self._values[key] = TimedValue(value, reading.ts)

    def on_status(self, site: str, status: GatewayStatus) -> None:
        self._gateways[(site, status.gateway)] = status

    def value(self, *, site: str, device: str, quantity: str, now_ms: int) -> float | None:
        """The latest value, or None when there is none or it is stale."""
        tv = self._values.get((site, device, quantity))
        if tv is None or now_ms - tv.ts_ms > self._stale_after_ms:
            return None
        return tv.value

    def offline_devices(self) -> frozenset[tuple[str, str]]:
        """``(site, device)`` of every device whose gateway said it is offline (its will)."""
        return frozenset((site, device) for (site, _gw), status in self._gateways.items()
                         if status.state is GatewayState.OFFLINE for device in status.devices)

    def snapshot(self, *, now_ms: int, plan_start_ms: int | None = None) -> StateSnapshot:
        """Fresh values at ``now_ms``; flexible-load progress up to ``plan_start_ms`` (default: now)."""
        loads = self.loads.status(start_ms=now_ms if plan_start_ms is None else plan_start_ms)
        snap = StateSnapshot(now_ms=now_ms, load_delivered_kwh=loads.delivered_kwh,
                             load_running=loads.running, load_power_kw=loads.running_power_kw,
                             load_run_kwh=loads.run_kwh)
        for site in self._district.sites:
            for b in site.batteries:
                soc = None if b.device is None else self.value(
                    site=site.id, device=b.device, quantity="battery_soc_pct", now_ms=now_ms)
                if soc is None:
                    snap.stale.append(f"{site.id}/{b.id}")
                else:
                    snap.battery_soc_pct[(site.id, b.id)] = soc
            for t in site.tanks:
                level = None if t.device is None else self.value(
                    site=site.id, device=t.device, quantity="tank_level_pct", now_ms=now_ms)
                if level is None:
                    snap.stale.append(f"{site.id}/{t.id}")
                else:
                    snap.tank_level_pct[(site.id, t.id)] = level
            for m in site.meters:
                if m.role is MeterRole.GRID:
                    p = self.value(site=site.id, device=m.device, quantity="active_power_w", now_ms=now_ms)
                    if p is not None:
                        snap.grid_power_w[site.id] = p
        for (site_id, gw), status in self._gateways.items():
            snap.gateways_online[(site_id, gw)] = status.state is GatewayState.ONLINE
        return snap

    def district_now(self, *, now_ms: int) -> DistrictConfig:
        """The registry with each battery's and tank's initial value set to its live value.

        Live values are clamped into the asset's limits so that the plan stays feasible.
        """
        snap = self.snapshot(now_ms=now_ms)
        sites = []
        for site in self._district.sites:
            batteries = []
            for b in site.batteries:
                soc = snap.battery_soc_pct.get((site.id, b.id))
                if soc is not None:
                    b = b.model_copy(update={"soc_initial_pct": _clamp(soc, b.soc_min_pct, b.soc_max_pct)})
                batteries.append(b)
            tanks = []
            for t in site.tanks:
                level = snap.tank_level_pct.get((site.id, t.id))
                if level is not None:
                    t = t.model_copy(
                        update={"level_initial_pct": _clamp(level, t.level_min_pct, t.level_max_pct)})
                tanks.append(t)
            sites.append(site.model_copy(update={"batteries": batteries, "tanks": tanks}))
        return self._district.model_copy(update={"sites": sites})


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
