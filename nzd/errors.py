"""The exception types that nzd documents for callers."""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigError", "ContractError"]


class ContractError(ValueError):
    """A payload or topic is not a valid message of the MQTT contract.

    ``field`` is the dotted path of the offending field (``""`` for the whole
    document), ``value`` what was found there and ``reason`` why it is refused.
    Every decoder in nzd raises this type and only this type on bad input.
    """

    def __init__(self, *, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        where = field or "<document>"
        super().__init__(f"{where}: {reason} (got {shown})")


class ConfigError(ValueError):
    """A configuration file is invalid.

    ``errors`` holds one line per problem, each naming the file, the line and
    the field path, e.g. ``district.yaml:14: sites[2].batteries[0].capacity_kwh:
    must be greater than 0``.
    """

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))
