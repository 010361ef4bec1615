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
    is_reserved_quantity,
)
from nzd.store.factory import open_store
from nzd.store.influx import InfluxStore
from nzd.store.lineprotocol import LineProtocolError
from nzd.store.sqlite import SqliteStore

__all__ = [
    "Aggregation",
    "Event",
    "EventKind",
    "InfluxStore",
    "LineProtocolError",
    "Reading",
    "Series",
    "SqliteStore",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "TelemetryStore",
    "is_reserved_quantity",
    "open_store",
]
