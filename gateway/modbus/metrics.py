"""Prometheus metrics of the poller, on the default registry, created once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["PollMetrics", "poll_metrics"]


@dataclass(frozen=True, slots=True)
class PollMetrics:
    requests: Counter
    errors: Counter
    cycles: Counter
    overruns: Counter
    quality_flags: Counter
    online: Gauge
    cycle_seconds: Histogram


@functools.cache
def poll_metrics() -> PollMetrics:
    return PollMetrics(
        requests=Counter("nzd_gateway_modbus_requests", "Modbus requests sent", ["device"]),
        errors=Counter("nzd_gateway_modbus_errors", "Failed Modbus requests", ["device", "reason"]),
        cycles=Counter("nzd_gateway_poll_cycles", "Poll cycles", ["device", "result"]),
        overruns=Counter("nzd_gateway_poll_overruns", "Grid slots skipped by slow cycles", ["device"]),
        quality_flags=Counter("nzd_gateway_quality_flags", "Quantities read with a quality flag",
                              ["device", "quality"]),
        online=Gauge("nzd_gateway_device_online", "1 if the device answers", ["device"]),
        cycle_seconds=Histogram("nzd_gateway_poll_cycle_seconds", "Duration of a poll cycle",
                                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)),
    )
