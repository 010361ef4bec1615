"""Identifiers used in topics, tags and configs: lowercase ``[a-z0-9_-]+``."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

__all__ = ["IDENTIFIER_PATTERN", "RESERVED_NAMES", "Identifier", "check_identifier"]

IDENTIFIER_PATTERN = r"^[a-z0-9_-]{1,64}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)

#: Topic segments with a fixed meaning; a device, gateway or asset may not use them.
RESERVED_NAMES = frozenset({"telemetry", "status", "setpoint", "ack", "alert", "confirm", "v1"})

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, strict=True)]


def check_identifier(value: str) -> bool:
    return isinstance(value, str) and _IDENTIFIER.fullmatch(value) is not None
