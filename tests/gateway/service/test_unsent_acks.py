"""An acknowledgement leaves the unsent queue only once its publish went through."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import pytest

from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import Ack, AckResult
from tests.gateway.service.support import Subscriber, until, write_gateway_config
from tests.harness import MosquittoServer, free_port


async def test_an_ack_whose_publish_fails_stays_queued_for_the_next_connection(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory()
    cfg = load_gateway_config(write_gateway_config(tmp_path, broker_port=broker.port,
                                                   modbus_port=free_port(), battery=True))
    service = GatewayService(config=cfg)
    ack = Ack(asset="battery", result=AckResult.FALLBACK, ts=time.time_ns() // 1_000_000, value=0.0)
    try:
        await service._send_ack(ack)  # no connection yet: queued
        assert list(service._unsent_acks) == [ack]
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="gw-ack-test") as client:
            broker.stop()
            with pytest.raises(aiomqtt.MqttError):
                await service._flush_acks(client)
        assert list(service._unsent_acks) == [ack]  # not lost with the failed publish

        broker.start()
        sub = Subscriber(port=broker.port, topics=["nzd/v1/+/+/ack/+"], client_id="ack-watch")
        try:
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="gw-ack-test-2") as client:
                await service._flush_acks(client)
            await until(lambda: sub.acks() == [ack], timeout_s=10, what="the ack, sent once")
        finally:
            sub.close()
        assert not service._unsent_acks
    finally:
        await service.disk.run(service.buffer.close)
        await service.disk.run(service.setpoints.close)
        service.disk.close()
