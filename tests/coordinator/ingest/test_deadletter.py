"""Dead letters carry the reason and the original message, binary payloads in base64."""

from __future__ import annotations

import base64

import orjson

from coordinator.ingest import dead_letter


def test_text_payload_is_kept_as_text() -> None:
    doc = orjson.loads(dead_letter(reason="bad", topic="t", payload=b'{"x": 1}', worker="w", ts_ms=5))
    assert doc == {"reason": "bad", "topic": "t", "payload": '{"x": 1}', "payload_encoding": "utf-8",
                   "worker": "w", "ts": 5}


def test_binary_payload_is_base64() -> None:
    doc = orjson.loads(dead_letter(reason="bad", topic="t", payload=b"\xff\x00", worker="w", ts_ms=5))
    assert doc["payload_encoding"] == "base64"
    assert base64.b64decode(doc["payload"]) == b"\xff\x00"
