"""InfluxDB line protocol and InfluxQL quoting, escaped exactly as InfluxDB parses them.

Line protocol (1.x, 2.x and 3.x alike):

- measurement: ``,`` and space are escaped with a backslash;
- tag keys, tag values and field keys: ``,``, ``=`` and space are escaped;
- string field values: ``"`` and ``\\`` are escaped, inside double quotes;
- float fields are written with ``repr`` (shortest round-trip form), integers with ``i``.

What line protocol cannot carry is refused with :class:`LineProtocolError`
rather than silently changed: a name or tag value that is empty (InfluxDB drops
empty tags), contains a line break (it would end the line) or a NUL (InfluxQL
cannot select it), or holds a backslash
that the parser would read as an escape (a trailing backslash, or one directly
before ``,``, ``=`` or a space). Identifiers from the MQTT contract never hit
these cases. Non-finite floats are refused too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = [
    "LineProtocolError",
    "check_name",
    "escape_measurement",
    "escape_name",
    "escape_string_field",
    "line",
    "quote_ident",
    "quote_string",
]


class LineProtocolError(ValueError):
    """A value cannot be written as line protocol without being changed."""


_NAME_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})


def _check_utf8(value: str, *, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LineProtocolError(f"{what} {value!r} is not valid Unicode text") from None


def check_name(value: str, *, what: str) -> None:
    """Refuse a measurement, tag or field name/value that cannot round-trip."""
    if not isinstance(value, str) or value == "":
        raise LineProtocolError(f"{what} must be a non-empty string, got {value!r}")
    if "\n" in value or "\r" in value:
        raise LineProtocolError(f"{what} {value!r} contains a line break")
    _check_utf8(value, what=what)
    if "\x00" in value:
        # InfluxQL reads NUL as the end of the query: the value could be written but never selected.
        raise LineProtocolError(f"{what} {value!r} contains a NUL character")
    if value.endswith("\\"):
        raise LineProtocolError(f"{what} {value!r} ends with a backslash")
    for special in (",", "=", " "):
        if "\\" + special in value:
            raise LineProtocolError(f"{what} {value!r} has a backslash before {special!r}")


def escape_name(value: str, *, what: str = "tag") -> str:
    check_name(value, what=what)
    return value.translate(_NAME_ESCAPES)


def escape_measurement(value: str) -> str:
    check_name(value, what="measurement")
    return value.translate(_MEASUREMENT_ESCAPES)


def escape_string_field(value: str) -> str:
    _check_utf8(value, what="string field")
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def _field_value(key: str, value: float | int | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineProtocolError(f"field {key!r} is {value!r}; only finite numbers can be stored")
        return repr(value)
    if isinstance(value, str):
        return escape_string_field(value)
    raise LineProtocolError(f"field {key!r} has unsupported type {type(value).__name__}")


def line(
    measurement: str,
    tags: Mapping[str, str] | Iterable[tuple[str, str]],
    fields: Mapping[str, float | int | str | bool],
    time: int,
) -> str:
    """One point as a line (no trailing newline); ``time`` in the write precision."""
    if not fields:
        raise LineProtocolError("a point needs at least one field")
    items = sorted(tags.items() if isinstance(tags, Mapping) else tags)
    head = escape_measurement(measurement)
    if items:
        head += "," + ",".join(
            f"{escape_name(k, what='tag key')}={escape_name(v, what=f'tag {k}')}" for k, v in items
        )
    body = ",".join(
        f"{escape_name(k, what='field key')}={_field_value(k, v)}" for k, v in fields.items()
    )
    return f"{head} {body} {int(time)}"


def quote_ident(name: str) -> str:
    """An InfluxQL identifier in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    """An InfluxQL string literal in single quotes."""
    if "\n" in value or "\r" in value:
        raise LineProtocolError(f"{value!r} contains a line break")
    if "\x00" in value:
        raise LineProtocolError(f"{value!r} contains a NUL character")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
