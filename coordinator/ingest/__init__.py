"""Ingest: MQTT telemetry into the TelemetryStore, at least once, acknowledged after storing."""

from coordinator.ingest.deadletter import DeadLetter, dead_letter
from coordinator.ingest.inbound import shared_subscription
from coordinator.ingest.metrics import IngestMetrics, MetricsServer
from coordinator.ingest.service import configure_logging, run_ingest
from coordinator.ingest.settings import DEADLETTER_TOPIC, IngestSettings
from coordinator.ingest.worker import IngestWorker

__all__ = [
    "DEADLETTER_TOPIC",
    "DeadLetter",
    "IngestMetrics",
    "IngestSettings",
    "IngestWorker",
    "MetricsServer",
    "configure_logging",
    "dead_letter",
    "run_ingest",
    "shared_subscription",
]
