"""Prometheus metrics of delivery and setpoints, read from the service at scrape time.

The poller's own metrics (requests, errors, cycles, per-device online) are in
:mod:`gateway.modbus.metrics`; both are on the default registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gateway.service._service import GatewayService

__all__ = ["ServiceCollector"]


class ServiceCollector(Collector):
    def __init__(self, service: GatewayService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        s = self.service
        yield GaugeMetricFamily("nzd_gateway_buffered_readings",
                                "Readings on disk not yet confirmed stored",
                                value=s.buffer.count)
        yield GaugeMetricFamily("nzd_gateway_buffer_bytes", "Estimated size of the disk queue",
                                value=s.buffer.size_bytes)
        yield GaugeMetricFamily("nzd_gateway_buffer_disk_bytes",
                                "Queue database plus its write-ahead log on disk",
                                value=s.buffer.disk_bytes())
        yield CounterMetricFamily("nzd_gateway_dropped_readings",
                                  "Readings lost: dropped oldest first for the disk budget, or not "
                                  "written because the disk was full",
                                  value=s.buffer.dropped)
        yield CounterMetricFamily("nzd_gateway_disk_full_readings",
                                  "Of the dropped readings, those lost because the disk was full "
                                  "(their seqs are a gap)", value=s.buffer.disk_full)
        yield CounterMetricFamily("nzd_gateway_confirmed_readings",
                                  "Readings deleted from the queue because ingest confirmed them stored",
                                  value=s.publisher.stats.confirmed)
        yield CounterMetricFamily("nzd_gateway_resent_readings",
                                  "Readings sent again because no confirmation came in time",
                                  value=s.publisher.stats.resent)
        yield CounterMetricFamily("nzd_gateway_published_readings", "Readings acknowledged by the broker",
                                  value=s.publisher.stats.published)
        yield CounterMetricFamily("nzd_gateway_replayed_readings",
                                  "Readings acknowledged after coming out of the backlog",
                                  value=s.publisher.stats.replayed)
        yield GaugeMetricFamily("nzd_gateway_broker_connected", "1 while connected to the broker",
                                value=1 if s.connected else 0)
        yield CounterMetricFamily("nzd_gateway_broker_disconnects", "Connections lost or refused",
                                  value=s.counts["disconnects"])
        setpoints = CounterMetricFamily("nzd_gateway_setpoints", "Setpoints by outcome", labels=["result"])
        for result, n in sorted(s.controller.counts.items()):
            setpoints.add_metric([result], n)
        yield setpoints
