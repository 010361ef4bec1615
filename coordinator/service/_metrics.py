"""Prometheus metrics of the coordinator, in a registry of its own per service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["PLAN_STATUSES", "CoordinatorMetrics"]

PLAN_STATUSES = ("optimal", "time_limit", "lp_fallback", "safe_mode", "error")


class CoordinatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.plans = Counter("nzd_coordinator_plans", "Plans made, by status", ["status"], registry=r)
        self.solve_seconds = Histogram(
            "nzd_coordinator_solve_seconds", "Time to make one plan (forecast and solve)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120), registry=r)
        self.last_plan_status = Gauge(
            "nzd_coordinator_last_plan_status", "1 for the status of the latest plan, 0 for the others",
            ["status"], registry=r)
        self.last_plan_ts = Gauge(
            "nzd_coordinator_last_plan_timestamp_seconds", "When the latest plan was made", registry=r)
        self.late_plans = Counter(
            "nzd_coordinator_late_plans", "Plans made after their planning interval had ended", registry=r)
        self.setpoints_sent = Counter(
            "nzd_coordinator_setpoints_sent", "Setpoints published", registry=r)
        self.setpoints_unsent = Counter(
            "nzd_coordinator_setpoints_unsent", "Setpoints that could not be published (broker down)",
            registry=r)
        self.acks = Counter(
            "nzd_coordinator_acks", "Setpoint outcomes by result (no_answer = timed out)", ["result"],
            registry=r)
        self.ack_latency_seconds = Histogram(
            "nzd_coordinator_ack_latency_seconds", "From publishing a setpoint to its acknowledgement",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=r)
        self.manual_overrides = Gauge(
            "nzd_coordinator_manual_overrides", "Assets held by a valid manual setpoint", registry=r)
        self.excluded_assets = Gauge(
            "nzd_coordinator_excluded_assets", "Assets planned at their fallback", registry=r)
        self.bad_messages = Counter(
            "nzd_coordinator_bad_messages", "MQTT messages refused, by topic kind", ["kind"], registry=r)
        self.messages = Counter(
            "nzd_coordinator_messages", "MQTT messages taken, by topic kind", ["kind"], registry=r)
        self.mqtt_connected = Gauge(
            "nzd_coordinator_mqtt_connected", "1 while connected to the broker", registry=r)
        self.mqtt_reconnects = Counter(
            "nzd_coordinator_mqtt_reconnects", "Broker connections lost or refused", registry=r)
        self.store_errors = Counter(
            "nzd_coordinator_store_errors", "Events the store did not take, by kind of failure",
            ["reason"], registry=r)
        self.leak_checks = Counter(
            "nzd_coordinator_leak_checks", "Leak-check rounds by result (ok, partial, failed)", ["result"],
            registry=r)
        self.water_alerts = Counter(
            "nzd_coordinator_water_alerts", "Water alerts published, by change (raised, cleared)", ["change"],
            registry=r)
        self.presence_alerts = Counter(
            "nzd_coordinator_presence_alerts",
            "Offline alerts published, by kind (device_offline, gateway_offline) and change",
            ["kind", "change"], registry=r)
        for status in PLAN_STATUSES:
            self.last_plan_status.labels(status=status).set(0)

    def plan_made(self, *, status: str, solve_s: float, at_s: float) -> None:
        self.plans.labels(status=status).inc()
        self.solve_seconds.observe(solve_s)
        for s in PLAN_STATUSES:
            self.last_plan_status.labels(status=s).set(1 if s == status else 0)
        self.last_plan_ts.set(at_s)
