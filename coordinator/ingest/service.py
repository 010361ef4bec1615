"""The ``nzd ingest`` service: settings, logging, store, metrics server and one worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from coordinator.ingest.metrics import IngestMetrics, MetricsServer
from coordinator.ingest.settings import IngestSettings
from coordinator.ingest.worker import IngestWorker
from nzd.logs import configure_logging
from nzd.store import InfluxStore, StoreError, TelemetryStore, open_store

__all__ = ["configure_logging", "run_ingest"]

log = logging.getLogger("nzd.ingest")




async def _open_store(store: TelemetryStore, stop: asyncio.Event) -> bool:
    """Open the store, waiting for it as long as it takes; False if asked to stop first."""
    delay_s = 1.0
    while not stop.is_set():
        try:
            await store.open()
            return True
        except StoreError as exc:
            log.error("cannot open the store, retrying in %.0f s: %s", delay_s, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay_s)
        delay_s = min(delay_s * 2, 30.0)
    return False


async def run_ingest(settings: IngestSettings, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``): MQTT telemetry -> store, acknowledged after storing."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    metrics = IngestMetrics()
    store = open_store(settings)
    worker = IngestWorker(settings=settings, store=store, metrics=metrics)
    if isinstance(store, InfluxStore):
        store.http.retry_total_s = settings.ingest_store_retry_total_s

        def on_retry(reason: str) -> None:
            # Unhealthy at the first failed attempt, not after the store's retries run out.
            metrics.retries.inc()
            worker.note_store_failure(reason)

        store.http.on_retry = on_retry
    server = None
    if settings.ingest_metrics_port:
        server = MetricsServer(host=settings.ingest_metrics_host, port=settings.ingest_metrics_port,
                               metrics=metrics, health=worker.health).start()
        log.info("metrics and health on http://%s:%d/metrics and /healthz",
                 settings.ingest_metrics_host, server.port)
    started = time.monotonic()
    try:
        if await _open_store(store, stop):
            log.info("ingest %s started: %s -> %s", settings.ingest_client_id, settings.mqtt_url,
                     settings.influx_url or settings.sqlite_path)
            await worker.run(stop)
    finally:
        await store.close()
        if server is not None:
            server.stop()
        log.info("ingest stopped after %.0f s; %d readings written", time.monotonic() - started,
                 worker.written)
