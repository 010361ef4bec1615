"""Durable store-and-forward: the SQLite reading queue and the QoS 1 publisher."""

from gateway.delivery._buffer import ROW_OVERHEAD_BYTES, BufferedRow, Reading, ReadingBuffer
from gateway.delivery._connection import broker_password, make_client
from gateway.delivery._executor import DiskWorker
from gateway.delivery._publisher import PublisherStats, TelemetryPublisher
from gateway.delivery._sqlite import configure_wal, is_disk_full, on_disk_bytes, rollback

__all__ = [
    "ROW_OVERHEAD_BYTES",
    "BufferedRow",
    "DiskWorker",
    "PublisherStats",
    "Reading",
    "ReadingBuffer",
    "TelemetryPublisher",
    "broker_password",
    "configure_wal",
    "is_disk_full",
    "make_client",
    "on_disk_bytes",
    "rollback",
]
