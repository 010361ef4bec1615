"""What ingest publishes for a message it cannot store: the reason and the original."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from pydantic import BaseModel, ConfigDict

__all__ = ["DeadLetter", "dead_letter", "wait_published"]


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    topic: str
    payload: str
    """The original payload: UTF-8 text, or base64 when ``payload_encoding`` says so."""
    payload_encoding: str = "utf-8"
    worker: str
    ts: int
    """When ingest gave up on it, epoch ms."""


def dead_letter(*, reason: str, topic: str, payload: bytes, worker: str, ts_ms: int) -> bytes:
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(payload).decode("ascii"), "base64"
    return DeadLetter(reason=reason, topic=topic, payload=text, payload_encoding=encoding,
                      worker=worker, ts=ts_ms).model_dump_json().encode()


async def wait_published(info: mqtt.MQTTMessageInfo, *, timeout_s: float, alive: Callable[[], bool]) -> bool:
    """Wait for the broker's PUBACK of ``info``; False after ``timeout_s`` or once ``alive()`` is False
    (the connection that would carry it is gone)."""
    deadline = time.monotonic() + timeout_s
    while not info.is_published():
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            return False
        if time.monotonic() > deadline or not alive():
            return False
        await asyncio.sleep(0.005)
    return True
