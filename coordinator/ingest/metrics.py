"""Prometheus metrics and the ``/healthz`` endpoint of the ingest service."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["IngestMetrics", "MetricsServer"]


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter("nzd_ingest_received", "MQTT telemetry messages received", registry=r)
        self.written = Counter("nzd_ingest_written", "Readings stored and acknowledged", registry=r)
        self.invalid = Counter("nzd_ingest_invalid", "Messages refused (bad payload or topic), dead-lettered",
                               ["reason"], registry=r)
        self.rejected = Counter("nzd_ingest_rejected", "Readings the store refused for good, dead-lettered",
                                registry=r)
        self.limited = Counter("nzd_ingest_limited", "Messages over a site's limits (devices, quantities, "
                               "rate), dead-lettered", ["limit"], registry=r)
        self.retries = Counter("nzd_ingest_retries", "Store write attempts that failed and were retried",
                               registry=r)
        self.batch_latency = Histogram(
            "nzd_ingest_batch_latency_seconds", "Time to store one batch, retries included",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=r)
        self.batch_size = Histogram("nzd_ingest_batch_readings", "Readings per batch",
                                    buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000), registry=r)
        self.lag = Gauge("nzd_ingest_lag_seconds",
                         "Age of the oldest live (not replayed) reading of the last stored batch", registry=r)
        self.backlog = Gauge("nzd_ingest_backlog_messages", "Messages received and not yet acknowledged",
                             registry=r)
        self.store_up = Gauge("nzd_ingest_store_up", "1 when the last write succeeded", registry=r)
        self.mqtt_connected = Gauge("nzd_ingest_mqtt_connected", "1 while connected to the broker",
                                    registry=r)


class MetricsServer:
    """``/metrics`` for Prometheus, ``/healthz`` (200 healthy, 503 not) as JSON, on one port."""

    def __init__(self, *, host: str, port: int, metrics: IngestMetrics,
                 health: Callable[[], dict[str, Any]]) -> None:
        registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    body, status, ctype = generate_latest(registry), 200, CONTENT_TYPE_LATEST
                elif self.path.startswith("/healthz"):
                    state = health()
                    body = json.dumps(state).encode()
                    status, ctype = (200 if state.get("healthy") else 503), "application/json"
                else:
                    body, status, ctype = b"not found\n", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: scraped every few seconds
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="nzd-ingest-metrics",
                                        daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
