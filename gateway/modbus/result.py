"""What one poll cycle of one device produces, and the device's running state."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from nzd.messages import DeviceKind, DeviceState, Quality, Telemetry

__all__ = ["DeviceStatus", "PollResult"]


@dataclass(frozen=True, slots=True)
class PollResult:
    """One reading of one device: every value taken at ``ts_ms`` (the read time).

    A point that could not be read well is in ``quality`` (and in ``values`` only
    when the flag keeps a value, e.g. ``out_of_range``). A cycle in which the
    device did not answer at all has no values, every point flagged
    ``comm_error`` and ``error`` set.
    """

    device: str
    kind: DeviceKind
    ts_ms: int
    values: dict[str, float]
    quality: dict[str, Quality]
    requests: int = 0
    """Requests sent in this cycle (retries included)."""
    duration_s: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def telemetry(self, *, seq: int, replayed: bool = False) -> Telemetry:
        """The contract message for this reading (``seq`` is the gateway's counter)."""
        values = {k: float(v) for k, v in self.values.items() if math.isfinite(v)}
        return Telemetry(ts=self.ts_ms, seq=seq, device=self.device, kind=self.kind,
                         values=values, quality=dict(self.quality), replayed=replayed)


@dataclass(slots=True)
class DeviceStatus:
    """Running state of one polled device, for the gateway's status topic and metrics."""

    online: bool = False
    last_read_ts_ms: int | None = None
    """Read time of the last cycle in which the device answered."""
    errors: int = 0
    """Failed requests since start (timeouts, exception responses, connection errors)."""
    errors_by_reason: Counter[str] = field(default_factory=Counter)
    consecutive_failures: int = 0
    """Cycles in a row in which the device did not answer."""
    cycles: int = 0
    overruns: int = 0
    """Grid slots skipped because a cycle took longer than the poll interval."""
    bad_values: int = 0
    """Quantities reported with a quality flag."""
    detail: str | None = "not polled yet"
    headline: list[str] = field(default_factory=list)
    """The profile's headline quantities this device reads."""
    poll_interval_s: float | None = None

    def state(self) -> DeviceState:
        return DeviceState(online=self.online, last_read_ts=self.last_read_ts_ms, errors=self.errors,
                           detail=self.detail, headline=list(self.headline),
                           poll_interval_s=self.poll_interval_s)
