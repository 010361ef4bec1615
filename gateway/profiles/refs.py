"""Values a profile may give as themselves or as a reference ``$name`` to one of its options.

A referenced value is checked when :meth:`gateway.profiles.schema.Profile.resolve` substitutes the
option; here a field accepts its type or a well-formed reference, with one clear message for either.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, PlainValidator, StringConstraints, TypeAdapter, ValidationError, WithJsonSchema

from gateway.profiles.types import Table, WordOrder

__all__ = [
    "Address",
    "AddressOrRef",
    "Number",
    "NumberOrRef",
    "OptionRef",
    "OptionValue",
    "TableOrRef",
    "UnitIdOrRef",
    "WordOrderOrRef",
]

OptionRef = Annotated[str, StringConstraints(pattern=r"^\$[a-z][a-z0-9_]*$", strict=True)]
"""A reference to an option, ``$name``, in place of a value."""

OptionValue = bool | int | float | str
Number = int | float
Address = Annotated[int, Field(ge=0, le=65535)]

_REF = re.compile(r"^\$[a-z][a-z0-9_]*$")
_REF_SCHEMA: dict[str, Any] = {"type": "string", "pattern": _REF.pattern}


def _ref_checker(tp: Any) -> Any:
    """A validator accepting ``tp`` or an option reference ``$name``, with one clear message."""
    adapter: TypeAdapter[Any] = TypeAdapter(tp)

    def check(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            if not _REF.match(value):
                raise ValueError(f"{value!r} is not an option reference ($ and a lowercase name)")
            return value
        if tp is Number and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"must be a number or an option reference $name (got {value!r})")
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            msg = str(first.get("msg", "invalid"))
            raise ValueError(f"{msg[0].lower()}{msg[1:]} (or an option reference $name)") from None

    return PlainValidator(check)


def _ref_schema(tp: Any) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [TypeAdapter(tp).json_schema(), _REF_SCHEMA]})


_UnitId = Annotated[int, Field(ge=0, le=255)]
NumberOrRef = Annotated[int | float | str, _ref_checker(Number), _ref_schema(Number)]
AddressOrRef = Annotated[int | str, _ref_checker(Address), _ref_schema(Address)]
TableOrRef = Annotated[Table | str, _ref_checker(Table), _ref_schema(Table)]
WordOrderOrRef = Annotated[WordOrder | str, _ref_checker(WordOrder), _ref_schema(WordOrder)]
UnitIdOrRef = Annotated[int | str, _ref_checker(_UnitId), _ref_schema(_UnitId)]
