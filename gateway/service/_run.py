"""Run the service in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from gateway.service._service import GatewayService
from nzd.config import GatewayConfig

__all__ = ["run_gateway"]

log = logging.getLogger(__name__)


async def run_gateway(config: GatewayConfig, *, metrics_port: int | None = None,
                      metrics_addr: str = "127.0.0.1") -> None:
    """Poll, queue and publish until SIGTERM/SIGINT, then flush what the broker takes and stop.

    With ``metrics_port`` the Prometheus metrics are served on ``http://metrics_addr:port/``.
    """
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_addr)
        log.info("metrics on http://%s:%d/metrics", metrics_addr, metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service = GatewayService(config=config)
    await service.run(stop)
