"""What ingest takes in: the telemetry subscription, a message as the broker delivered it, its reading."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from nzd.errors import ContractError
from nzd.messages import Telemetry, decode
from nzd.store import Reading
from nzd.topics import Topic, TopicKind, parse_topic, site_filter

__all__ = ["Inbound", "parse_reading", "shared_subscription"]


def shared_subscription(group: str) -> str:
    """``$share/{group}/nzd/v1/+/+/+/telemetry``: the workers of a group split the stream.

    An empty group gives the plain filter (one worker, any MQTT 3.1.1 broker).
    """
    telemetry = site_filter(TopicKind.TELEMETRY)
    return f"$share/{group}/{telemetry}" if group else telemetry


@functools.lru_cache(maxsize=65_536)
def _parse_topic(topic: str) -> Topic:
    """Topics repeat (one per device): parse each once. Errors are not cached (lru_cache re-raises)."""
    return parse_topic(topic)


@dataclass(slots=True)
class Inbound:
    generation: int
    """Which connection delivered it: an acknowledgement only means something on that one."""
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_s: float


def parse_reading(item: Inbound) -> Reading:
    """The reading in ``item``; :class:`ContractError` when its topic or payload breaks the contract."""
    topic = _parse_topic(item.topic)
    if topic.kind is not TopicKind.TELEMETRY:
        raise ContractError(field="topic", value=item.topic, reason="is not a telemetry topic")
    t = decode(item.payload, Telemetry)
    if t.device != topic.name:
        raise ContractError(field="device", value=t.device,
                            reason=f"differs from the topic's device {topic.name!r}")
    return Reading(district=topic.district, site=topic.site, device=t.device, kind=t.kind,
                   ts_ms=t.ts, seq=t.seq, values=t.values, replayed=t.replayed,
                   quality={q: flag.value for q, flag in t.quality.items()})
