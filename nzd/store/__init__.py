"""Telemetry storage: the TelemetryStore interface and its backends."""

from nzd.store.base import (
    Aggregation,
    Event,
    EventKind,
    Reading,
    Series,
    StoreError,
    StoreRejected,
    StoreUnavailable,
    TelemetryStore,
)

__all__ = [
    "Aggregation",
    "Event",
    "EventKind",
    "Reading",
    "Series",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "TelemetryStore",
]
