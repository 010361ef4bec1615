"""The TelemetryStore interface that InfluxDB and SQLite backends implement.

Schema (both backends): one measurement (table) per device kind; tags district,
site, device; fields are the quantities plus ``seq``. Events (plans, setpoints,
acknowledgements, alerts, gateway status) are JSON documents with a kind, a
district, a site and a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from nzd.messages import RESERVED_QUANTITY_NAMES, RESERVED_QUANTITY_PREFIX, DeviceKind

__all__ = [
    "RESERVED_FIELDS",
    "Aggregation",
    "Event",
    "EventKind",
    "Reading",
    "Series",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "TelemetryStore",
    "check_every_s",
    "is_reserved_quantity",
]


class StoreError(Exception):
    """Base class of store errors."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or is overloaded; retry later (nothing was written)."""


class StoreRejected(StoreError):
    """The store refused the data for good (e.g. HTTP 400); do not retry; dead-letter it."""


#: Field names a store keeps for itself: no quantity may be called so.
RESERVED_FIELDS = frozenset({"seq", "nzd_quality", "nzd_replayed"})


def is_reserved_quantity(name: str) -> bool:
    """A tag key, ``time``, a store field or anything in the ``nzd_`` namespace
    (``nzd.messages.RESERVED_QUANTITY_NAMES``): the stores refuse such a quantity even when a
    caller bypasses the contract's validation."""
    return (name in RESERVED_QUANTITY_NAMES or name in RESERVED_FIELDS
            or name.startswith(RESERVED_QUANTITY_PREFIX))


def check_every_s(every_s: int | None) -> None:
    """Buckets of ``every_s`` seconds, or every reading when None: a bucket of no time or less is
    refused for good, by every backend alike."""
    if every_s is not None and every_s <= 0:
        raise StoreRejected(f"every_s must be positive, got {every_s}")


@dataclass(frozen=True, slots=True)
class Reading:
    """One telemetry reading as stored: where it came from plus the payload."""

    district: str
    site: str
    device: str
    kind: DeviceKind
    ts_ms: int
    seq: int
    values: dict[str, float]
    replayed: bool = False
    """It came out of the gateway's buffer after an outage, not live."""
    quality: dict[str, str] = field(default_factory=dict)
    """Quantity -> why it is not good (``nzd.messages.Quality``); good quantities are absent."""


class Aggregation(StrEnum):
    MEAN = "mean"
    MAX = "max"
    MIN = "min"
    LAST = "last"


@dataclass(slots=True)
class Series:
    """Aggregated or raw values of one device: ``times_ms[i]`` holds ``values[q][i]``."""

    site: str
    device: str
    kind: DeviceKind
    times_ms: list[int] = field(default_factory=list)
    values: dict[str, list[float | None]] = field(default_factory=dict)
    flags: dict[str, list[str | None]] = field(default_factory=dict)
    """Per quantity, each value's quality flag (None = good); filled by ``counter_bounds`` only."""


class EventKind(StrEnum):
    PLAN = "plan"
    SETPOINT = "setpoint"
    ACK = "ack"
    ALERT = "alert"
    STATUS = "status"
    KPI = "kpi"
    FORECAST = "forecast"
    PRODUCTION = "production"
    PRICE = "price"
    """Hourly zonal price, one event per hour (nzd.prices)."""
    BASELINE = "baseline"
    """A day's plan against the fair and the do-nothing baselines (coordinator/baselines.py)."""
    TARGET = "target"
    """A district target as set, one event per change, keyed by its metric (nzd/targets.py)."""
    SCENARIO = "scenario"
    """A scenario job's state, and its result when done (coordinator/scenarios)."""


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    district: str
    site: str
    """``"*"`` for district-wide events such as a plan."""
    ts_ms: int
    key: str
    """Identifies the event within its kind (setpoint id, alert id, plan id, gateway)."""
    document: dict[str, Any]


@runtime_checkable
class TelemetryStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the store answers."""
        ...

    async def write(self, readings: Sequence[Reading]) -> None:
        """Store all readings or none; raises StoreUnavailable or StoreRejected."""
        ...

    async def latest(
        self, *, district: str, site: str | None = None, device: str | None = None,
        since_ms: int | None = None,
    ) -> list[Reading]:
        """The last value of every quantity per (site, device); one Reading per device.

        With ``since_ms`` only what was measured at or after it: devices silent since then
        are left out (see :meth:`latest_silent`), and so are values a device stopped sending
        before it. The cost then depends on the lookback, not on how much history is kept.
        """
        ...

    async def latest_silent(
        self, *, district: str, site: str | None = None, since_ms: int
    ) -> list[Reading]:
        """As :meth:`latest`, for the devices whose newest reading is older than ``since_ms``.

        Costs one look-up per silent device (InfluxDB) or a read of the latest tables
        (SQLite), never a scan of every device's history.
        """
        ...

    async def history(
        self,
        *,
        district: str,
        site: str | None = None,
        device: str | None = None,
        kind: DeviceKind | None = None,
        quantities: Sequence[str],
        start_ms: int,
        end_ms: int,
        every_s: int | None = None,
        aggregation: Aggregation = Aggregation.MEAN,
    ) -> list[Series]:
        """Values in [start_ms, end_ms); aggregated per ``every_s`` bucket, raw when None."""
        ...

    async def counter_bounds(
        self,
        *,
        district: str,
        site: str | None = None,
        quantities: Sequence[str],
        start_ms: int,
        end_ms: int,
        every_s: int | None = None,
    ) -> list[Series]:
        """Readings of cumulative counters in [start_ms, end_ms) at the instants they were taken,
        with their quality flags: every reading when ``every_s`` is None, else the first and the
        last reading of each ``every_s`` bucket (from the rollups where the store keeps them)."""
        ...

    async def write_events(self, events: Sequence[Event]) -> None: ...

    async def events(
        self,
        kind: EventKind,
        *,
        district: str,
        site: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Newest first."""
        ...
