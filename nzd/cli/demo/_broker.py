"""The embedded MQTT broker (amqtt) for a demo on a machine without Mosquitto."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["EmbeddedBroker"]


class EmbeddedBroker:
    """amqtt in this process: about 1k messages/s at QoS 1, enough for a demo district."""

    def __init__(self, *, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    async def start(self) -> None:
        from amqtt.broker import Broker

        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            # No $SYS plugin: nothing in nzd reads broker statistics.
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config)
        await self._broker.start()

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
