"""Prometheus metrics of one app instance (its own registry, so several apps can coexist in tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ApiMetrics"]


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("nzd_api_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=r)
        self.request_seconds = Histogram("nzd_api_request_duration_seconds", "HTTP request duration",
                                         ["method", "route"], registry=r)
        self.live_clients = Gauge("nzd_api_live_clients", "Connected live-stream clients", registry=r)
        self.live_dropped = Counter("nzd_api_live_dropped_total",
                                    "Live-stream clients dropped because they fell behind", registry=r)
        self.live_events = Counter("nzd_api_live_events_total", "Events fanned out to live clients",
                                   ["type"], registry=r)
        self.mqtt_messages = Counter("nzd_api_mqtt_messages_total", "MQTT messages received", ["kind"],
                                     registry=r)
        self.mqtt_invalid = Counter("nzd_api_mqtt_invalid_total",
                                    "MQTT messages refused as not matching the contract", registry=r)
        self.mqtt_connected = Gauge("nzd_api_mqtt_connected", "1 while connected to the broker", registry=r)
        self.latest_refused = Counter("nzd_api_latest_refused_total",
                                      "Readings (or quantities) the in-memory latest values did not keep: "
                                      "unknown site, or over the devices / quantities bound", ["reason"],
                                      registry=r)
        self.setpoints = Counter("nzd_api_manual_setpoints_total", "Manual setpoints published", registry=r)
