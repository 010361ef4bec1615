"""Dispatch: the plan's first interval as setpoints, and what the gateways answered.

A setpoint is valid from the start of its planning interval for a limited window
(by default two planning intervals), so that a gateway whose coordinator went
quiet falls back to its safe local mode on its own. Ids increase per asset and
are at least the issue time in epoch milliseconds, so they keep increasing
across coordinator restarts (a gateway applies an id at most once).

An asset whose latest setpoint was rejected, failed, expired or got no answer
within the timeout is *excluded*: the next plan keeps it at its safe mode. It is
included again as soon as it applies a later setpoint (excluded assets still get
their safe-mode value as a setpoint, which doubles as a probe).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from nzd.config import BATTERY_QUANTITY, LOAD_QUANTITY, PUMP_QUANTITY, DistrictConfig
from nzd.messages import Ack, AckResult, Setpoint, SetpointSource
from nzd.setpoint_ids import SetpointIdAllocator, SetpointSender

__all__ = [
    "AckOutcome",
    "AckTracker",
    "AssetKey",
    "ManualOverrides",
    "Resolution",
    "SetpointIds",
    "Target",
    "build_setpoints",
    "controllable_assets",
    "validity_window",
]



@dataclass(frozen=True, slots=True, order=True)
class AssetKey:
    site: str
    asset: str
    """The gateway asset name (what the setpoint topic carries)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One asset's value for the interval being dispatched."""

    site: str
    asset: str
    quantity: str
    value: float

    @property
    def key(self) -> AssetKey:
        return AssetKey(self.site, self.asset)


@dataclass(frozen=True, slots=True)
class ControllableAsset:
    key: AssetKey
    registry_id: str
    """The id of the battery, flexible load or tank in the district registry."""
    section: str
    """``batteries``, ``flexible_loads`` or ``tanks``."""
    quantity: str
    device: str | None
    """The device the registry names for the asset (how a gateway's status lists it)."""
    fallback_value: float | None
    """The asset's safe value when the coordinator knows it (a battery idles at 0 W); None when
    the safe mode is local to the site (a flexible load's own schedule) and only its gateway knows it."""


def controllable_assets(district: DistrictConfig) -> list[ControllableAsset]:
    """Every battery, flexible load and tank; the gateway asset is the registry id when not named."""
    found: list[ControllableAsset] = []
    for site in district.sites:
        for b in site.batteries:
            found.append(ControllableAsset(AssetKey(site.id, b.asset or b.id), b.id, "batteries",
                                           BATTERY_QUANTITY, b.device, 0.0))
        for f in site.flexible_loads:
            found.append(ControllableAsset(AssetKey(site.id, f.asset or f.id), f.id, "flexible_loads",
                                           LOAD_QUANTITY, None, None))
        for t in site.tanks:
            found.append(ControllableAsset(AssetKey(site.id, t.asset or t.id), t.id, "tanks",
                                           PUMP_QUANTITY, t.device, None))
    return found


class SetpointIds:
    """The coordinator's setpoint ids: unique by construction (nzd/setpoint_ids.py), so they
    never collide with an operator's manual setpoint, whatever ids others have sent."""

    def __init__(self) -> None:
        self._ids = SetpointIdAllocator(sender=SetpointSender.COORDINATOR)

    def next(self, key: AssetKey, *, issued_at_ms: int) -> int:
        del key  # unique across assets too
        return self._ids.next(issued_at_ms=issued_at_ms)


class ManualOverrides:
    """Manual setpoints (an operator's, through the API) hold their asset while they are valid.

    The plan leaves such an asset alone: it sends it nothing (a newer plan id would
    replace the operator's value at the gateway) and plans it as unavailable.
    """

    def __init__(self) -> None:
        self._latest: dict[AssetKey, Setpoint] = {}

    def seen(self, site: str, setpoint: Setpoint) -> None:
        if setpoint.source is not SetpointSource.MANUAL:
            return
        key = AssetKey(site, setpoint.asset)
        known = self._latest.get(key)
        # The newest decision holds: ordered by issue time, as the gateway orders them.
        if known is None or (setpoint.issued_at, setpoint.id) > (known.issued_at, known.id):
            self._latest[key] = setpoint

    def active(self, *, now_ms: int) -> frozenset[AssetKey]:
        return frozenset(k for k, sp in self._latest.items() if sp.valid_from <= now_ms < sp.valid_until)


def validity_window(*, interval_start_ms: int, sent_at_ms: int, interval_ms: int,
                    validity_ms: int) -> tuple[int, int]:
    """``(valid_from, valid_until)`` of the setpoints of the plan for ``interval_start_ms``.

    Valid from the start of the planning interval for ``validity_ms``. A plan whose solve
    overran into a later interval counts its window from the interval it is sent in, so
    that it does not arrive already expired, and still ends at most ``validity_ms`` after
    that interval began (the gateways' dead-man switch is kept).
    """
    if validity_ms <= 0 or interval_ms <= 0:
        raise ValueError(f"validity_ms and interval_ms must be positive, got {validity_ms}, {interval_ms}")
    anchor = max(interval_start_ms, sent_at_ms // interval_ms * interval_ms)
    return interval_start_ms, anchor + validity_ms


def build_setpoints(
    *,
    targets: Iterable[Target],
    valid_from_ms: int,
    valid_until_ms: int,
    issued_at_ms: int,
    ids: SetpointIds,
    plan_id: str | None = None,
    source: SetpointSource = SetpointSource.PLAN,
) -> list[tuple[str, Setpoint]]:
    """``(site, setpoint)`` per target, valid in ``[valid_from_ms, valid_until_ms)``."""
    if valid_until_ms <= valid_from_ms:
        raise ValueError(f"empty validity window [{valid_from_ms}, {valid_until_ms})")
    out: list[tuple[str, Setpoint]] = []
    for t in targets:
        sp = Setpoint(
            id=ids.next(t.key, issued_at_ms=issued_at_ms),
            asset=t.asset,
            quantity=t.quantity,
            value=float(t.value),
            valid_from=valid_from_ms,
            valid_until=valid_until_ms,
            issued_at=issued_at_ms,
            source=source,
            plan_id=plan_id,
        )
        out.append((t.site, sp))
    return out


class AckOutcome(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    FALLBACK = "fallback"
    NO_ANSWER = "no_answer"
    """No acknowledgement within the timeout."""


_EXCLUDING = frozenset({AckOutcome.REJECTED, AckOutcome.EXPIRED, AckOutcome.FAILED, AckOutcome.NO_ANSWER})


@dataclass(frozen=True, slots=True)
class Resolution:
    """What became of one setpoint (or, for a fallback, of one asset)."""

    key: AssetKey
    outcome: AckOutcome
    setpoint: Setpoint | None
    """None for a fallback ack, or an ack for a setpoint this tracker never sent."""
    ack: Ack | None = None
    latency_s: float | None = None


@dataclass(slots=True)
class _Pending:
    setpoint: Setpoint
    sent_at_s: float


@dataclass(slots=True)
class AckTracker:
    """Matches acknowledgements to sent setpoints; times out the silent ones.

    ``clock`` is monotonic seconds (injectable so that tests need not sleep).
    """

    ack_timeout_s: float
    clock: Callable[[], float] = time.monotonic
    _pending: dict[tuple[AssetKey, int], _Pending] = field(default_factory=dict)
    _newest_resolved: dict[AssetKey, int] = field(default_factory=dict)
    _excluded: set[AssetKey] = field(default_factory=set)
    _last: dict[AssetKey, AckOutcome] = field(default_factory=dict)

    def sent(self, site: str, setpoint: Setpoint) -> None:
        key = AssetKey(site, setpoint.asset)
        self._pending[(key, setpoint.id)] = _Pending(setpoint, self.clock())

    @property
    def pending(self) -> int:
        return len(self._pending)

    def on_ack(self, site: str, ack: Ack) -> Resolution:
        key = AssetKey(site, ack.asset)
        outcome = AckOutcome(ack.result.value)
        if ack.result is AckResult.FALLBACK or ack.setpoint_id is None:
            self._last[key] = outcome
            return Resolution(key, outcome, None, ack)
        pending = self._pending.pop((key, ack.setpoint_id), None)
        latency = None if pending is None else self.clock() - pending.sent_at_s
        self._resolve(key, ack.setpoint_id, outcome)
        return Resolution(key, outcome, None if pending is None else pending.setpoint, ack, latency)

    def expire(self) -> list[Resolution]:
        """Setpoints without an answer for longer than the timeout, now counted as no answer."""
        now = self.clock()
        late = [(k, p) for k, p in self._pending.items() if now - p.sent_at_s >= self.ack_timeout_s]
        out: list[Resolution] = []
        for (key, sp_id), p in late:
            del self._pending[(key, sp_id)]
            self._resolve(key, sp_id, AckOutcome.NO_ANSWER)
            out.append(Resolution(key, AckOutcome.NO_ANSWER, p.setpoint))
        return out

    def _resolve(self, key: AssetKey, setpoint_id: int, outcome: AckOutcome) -> None:
        # An answer about an older setpoint than one already resolved says nothing new.
        if setpoint_id < self._newest_resolved.get(key, -1):
            return
        self._newest_resolved[key] = setpoint_id
        self._last[key] = outcome
        if outcome in _EXCLUDING:
            self._excluded.add(key)
        elif outcome is AckOutcome.APPLIED:
            self._excluded.discard(key)

    def excluded(self) -> frozenset[AssetKey]:
        """Assets the next plan keeps at their fallback."""
        return frozenset(self._excluded)

    def last_outcomes(self) -> Mapping[AssetKey, AckOutcome]:
        return dict(self._last)
