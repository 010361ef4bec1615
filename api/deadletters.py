"""The recent dead letters of ingest, kept for the operator (route ``/api/v1/deadletters``).

Ingest publishes each message it refuses (bad payload, reserved name, over a site's limits,
refused by the store) on :data:`nzd.topics.DEADLETTER_TOPIC` with the reason. The API's MQTT
connection (the account ``nzd-api``, the only one the ACL lets read that topic) hands them
here: the newest ``capacity`` are kept in memory with a count per reason, nothing more, so a
flood of dead letters costs a bounded amount of memory.
"""

from __future__ import annotations

import collections

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nzd.clock import district_clock

__all__ = ["DeadLetterOut", "DeadLetters"]

_PAYLOAD_SHOWN = 2000
"""Characters of the original payload kept per dead letter."""


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(examples=["limit exceeded: site 'tintoria' already has 256 devices"])
    topic: str = Field(examples=["nzd/v1/prato-est/tintoria/fake-1/telemetry"])
    payload: str = Field(description="The original payload (UTF-8, or base64 per payload_encoding), "
                                     f"cut at {_PAYLOAD_SHOWN} characters")
    payload_encoding: str = "utf-8"
    worker: str = Field(examples=["nzd-ingest-1"])
    ts: int = Field(description="When ingest refused it, epoch ms", examples=[1_767_225_600_000])


def _kind(reason: str) -> str:
    """The reason's kind: its text up to the first colon ("invalid message", "limit exceeded"...)."""
    return reason.split(":", 1)[0][:60]


class DeadLetters:
    def __init__(self, *, capacity: int = 500) -> None:
        self.recent: collections.deque[DeadLetterOut] = collections.deque(maxlen=capacity)
        self.total = 0
        self.by_kind: dict[str, int] = {}
        self.unreadable = 0

    def add(self, payload: bytes) -> None:
        try:
            letter = DeadLetterOut.model_validate(orjson.loads(payload))
        except (orjson.JSONDecodeError, ValidationError):
            self.unreadable += 1
            letter = DeadLetterOut(reason="unreadable dead letter", topic="", worker="",
                                   payload=payload[:_PAYLOAD_SHOWN].decode("utf-8", "replace"),
                                   ts=district_clock().now_ms())
        if len(letter.payload) > _PAYLOAD_SHOWN:
            letter = letter.model_copy(update={"payload": letter.payload[:_PAYLOAD_SHOWN]})
        self.total += 1
        kind = _kind(letter.reason)
        if kind in self.by_kind or len(self.by_kind) < 100:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        self.recent.append(letter)
