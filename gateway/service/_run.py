"""Run the service in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from gateway.service._service import GatewayService
from nzd.config import GatewayConfig

__all__ = ["run_gateway"]

log = logging.getLogger(__name__)


async def run_gateway(config: GatewayConfig) -> None:
    """Poll, queue and publish until SIGTERM/SIGINT, then flush what the broker takes and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service = GatewayService(config=config)
    await service.run(stop)
