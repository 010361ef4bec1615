"""The device profile format: a register map as data, validated when it loads.

A profile file (``firmware_configs/profiles/NAME.yaml``) is parsed into
:class:`Profile`. Its ``points`` may refer to per-installation ``options`` with
``$name`` strings; :meth:`Profile.resolve` substitutes the options (defaults,
overridden by a gateway config's ``profile_options``) and returns concrete
:class:`Point` objects, which is what the planner, the decoder and the poller use.

docs/profiles.md describes the format for people who write profiles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from nzd.errors import ConfigError
from nzd.messages import DeviceKind
from nzd.quantities import QUANTITIES

__all__ = [
    "MAX_BITS_PER_REQUEST",
    "MAX_REGISTERS_PER_REQUEST",
    "UNIT_FACTORS",
    "AddressRange",
    "Addressing",
    "DataType",
    "Defaults",
    "Document",
    "Limits",
    "Linear",
    "OptionRef",
    "OptionSpec",
    "OptionValue",
    "Point",
    "PointSpec",
    "Profile",
    "Table",
    "ValidRange",
    "WordOrder",
    "WriteLimits",
    "unit_factor",
]

#: Modbus limits of one read request (FC 3/4: 125 registers; FC 1/2: 2000 bits).
MAX_REGISTERS_PER_REQUEST = 125
MAX_BITS_PER_REQUEST = 2000

Loc = tuple[int | str, ...]


class Table(StrEnum):
    """The four Modbus data tables."""

    HOLDING = "holding"
    """Holding registers, FC 3 (read), FC 6/16 (write)."""
    INPUT = "input"
    """Input registers, FC 4."""
    COIL = "coil"
    """Coils, FC 1 (read), FC 5/15 (write)."""
    DISCRETE = "discrete"
    """Discrete inputs, FC 2."""

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE)

    @property
    def writable(self) -> bool:
        return self in (Table.HOLDING, Table.COIL)


class DataType(StrEnum):
    U16 = "u16"
    I16 = "i16"
    U32 = "u32"
    I32 = "i32"
    U64 = "u64"
    I64 = "i64"
    F32 = "f32"
    F64 = "f64"
    STRING = "string"
    """ASCII, two characters per register, ``length`` registers."""
    BIT = "bit"
    """A coil or discrete input, or bit ``bit`` of a register."""

    @property
    def words(self) -> int:
        """Registers a value of this type occupies (0 for string: see ``length``)."""
        return _WORDS[self]

    @property
    def signed(self) -> bool:
        return self in (DataType.I16, DataType.I32, DataType.I64)

    @property
    def is_float(self) -> bool:
        return self in (DataType.F32, DataType.F64)

    @property
    def is_integer(self) -> bool:
        return self in _INTEGERS


_WORDS = {
    DataType.U16: 1, DataType.I16: 1, DataType.U32: 2, DataType.I32: 2, DataType.U64: 4,
    DataType.I64: 4, DataType.F32: 2, DataType.F64: 4, DataType.STRING: 0, DataType.BIT: 1,
}
_INTEGERS = frozenset({DataType.U16, DataType.I16, DataType.U32, DataType.I32, DataType.U64, DataType.I64})


class WordOrder(StrEnum):
    """Order of the bytes of a multi-register value, A being the most significant.

    ABCD is the Modbus convention (big-endian words, high word first); CDAB is
    "low word first" (words reversed, also for 64-bit values); BADC swaps the
    bytes inside each register; DCBA does both (fully little-endian).
    """

    ABCD = "ABCD"
    CDAB = "CDAB"
    BADC = "BADC"
    DCBA = "DCBA"

    @property
    def swap_words(self) -> bool:
        return self in (WordOrder.CDAB, WordOrder.DCBA)

    @property
    def swap_bytes(self) -> bool:
        return self in (WordOrder.BADC, WordOrder.DCBA)


#: Units a profile may state for a point, with the factor to the quantity's unit.
#: Keys are (from unit, to unit); the same unit converts with factor 1.
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("kW", "W"): 1e3, ("MW", "W"): 1e6,
    ("kvar", "var"): 1e3, ("kVA", "VA"): 1e3,
    ("kWh", "Wh"): 1e3, ("MWh", "Wh"): 1e6,
    ("kvarh", "varh"): 1e3, ("Mvarh", "varh"): 1e6,
    ("kV", "V"): 1e3, ("mV", "V"): 1e-3,
    ("mA", "A"): 1e-3, ("kA", "A"): 1e3,
    ("A", "mA"): 1e3, ("µA", "mA"): 1e-3,
    ("mHz", "Hz"): 1e-3,
    ("mbar", "bar"): 1e-3, ("kPa", "bar"): 1e-2, ("MPa", "bar"): 10.0, ("Pa", "bar"): 1e-5,
    ("psi", "bar"): 0.0689475729,
    ("l/s", "m³/h"): 3.6, ("l/min", "m³/h"): 0.06, ("l/h", "m³/h"): 1e-3, ("m³/s", "m³/h"): 3600.0,
    ("m³/min", "m³/h"): 60.0,
    ("l", "m³"): 1e-3, ("hl", "m³"): 0.1, ("dm³", "m³"): 1e-3,
    ("mS/cm", "µS/cm"): 1e3, ("µS/m", "µS/cm"): 1e-2, ("mS/m", "µS/cm"): 10.0,
    ("cm", "m"): 1e-2, ("mm", "m"): 1e-3,
    ("‰", "%"): 0.1, ("1", "%"): 100.0,
    ("%", "1"): 0.01,
}

#: ASCII spellings accepted for the units of the vocabulary.
_UNIT_ALIASES = {
    "m3/h": "m³/h", "m3": "m³", "m3/s": "m³/s", "m3/min": "m³/min", "dm3": "dm³",
    "uS/cm": "µS/cm", "us/cm": "µS/cm", "μS/cm": "µS/cm", "uS/m": "µS/m",
    "degC": "°C", "C": "°C", "uA": "µA", "μA": "µA", "VAr": "var", "kVAr": "kvar",
    "VArh": "varh", "kVArh": "kvarh", "permille": "‰", "pct": "%",
}


def unit_factor(unit: str, target: str) -> float | None:
    """Factor from ``unit`` to ``target``; None when nzd cannot convert."""
    unit = _UNIT_ALIASES.get(unit, unit)
    if unit == target:
        return 1.0
    return UNIT_FACTORS.get((unit, target))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class Document(_Strict):
    """The register documentation a profile was written from."""

    title: str
    version: str
    """Version, revision or date of the document, as printed on it."""
    publisher: str | None = None
    url: str | None = None


class Addressing(_Strict):
    """How the datasheet numbers registers. Profiles always hold protocol addresses."""

    datasheet: Literal["protocol", "one_based", "modicon"]
    """``protocol``: the datasheet prints the 0-based address sent on the wire;
    ``one_based``: it numbers from 1 (register N is protocol address N-1);
    ``modicon``: 30001/40001-style numbers (30001 is input register address 0)."""
    note: str = ""


class AddressRange(_Strict):
    """An inclusive range of protocol addresses of one table."""

    table: Table
    start: Address
    end: Address
    note: str = ""


class Limits(_Strict):
    """What the device can take, on top of the protocol's limits."""

    max_registers: Annotated[int, Field(ge=1, le=MAX_REGISTERS_PER_REQUEST)] = MAX_REGISTERS_PER_REQUEST
    """Largest number of registers in one read request."""
    max_bits: Annotated[int, Field(ge=1, le=MAX_BITS_PER_REQUEST)] = MAX_BITS_PER_REQUEST
    """Largest number of coils or discrete inputs in one read request."""
    max_gap: Annotated[int, Field(ge=0, le=MAX_BITS_PER_REQUEST)] = 0
    """Largest run of addresses no point needs that one request may read through.
    0 (the default) reads only registers the profile declares."""
    forbidden: list[AddressRange] = Field(default_factory=list)
    """Addresses that must never be read (the device answers with an exception,
    or reading them has side effects)."""


class OptionSpec(_Strict):
    """A per-installation choice; a gateway config overrides it in ``profile_options``."""

    description: str
    default: OptionValue
    choices: list[OptionValue] | None = None
    min: Number | None = None
    max: Number | None = None

    def check(self, value: OptionValue) -> str | None:
        """Why ``value`` is not acceptable for this option; None if it is."""
        if self.choices is not None:
            if not any(_same_option_value(c, value) for c in self.choices):
                shown = ", ".join(str(c) for c in self.choices)
                return f"must be one of: {shown} (got {value!r})"
            return None
        default_is_number = isinstance(self.default, int | float) and not isinstance(self.default, bool)
        if default_is_number:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"must be a number (got {value!r})"
            if not math.isfinite(value):
                return "must be a finite number"
            if self.min is not None and value < self.min:
                return f"must be at least {self.min} (got {value})"
            if self.max is not None and value > self.max:
                return f"must be at most {self.max} (got {value})"
        elif type(value) is not type(self.default):
            return f"must be a {type(self.default).__name__} (got {value!r})"
        return None


def _same_option_value(a: Any, b: Any) -> bool:
    """Equal and of the same kind (a bool is not the number 1, a string not a number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)


class Linear(_Strict):
    """Two-point scaling: raw ``raw[0]`` reads as ``value[0]``, ``raw[1]`` as ``value[1]``.

    Typical for 4-20 mA channels: ``raw: [4000, 20000]`` (µA) to ``value: [0, 100]`` (%).
    """

    raw: tuple[NumberOrRef, NumberOrRef]
    value: tuple[NumberOrRef, NumberOrRef]


class ValidRange(_Strict):
    """Plausible values (after scaling); outside them the value is flagged or clamped."""

    min: NumberOrRef | None = None
    max: NumberOrRef | None = None
    clamp: bool = False
    """False: report the value with quality ``out_of_range``; true: clamp it to the
    range and report it with quality ``uncertain``."""
    raw_min: NumberOrRef | None = None
    """Plausible raw values (before scaling), e.g. the NAMUR NE 43 limits 3.8..20.5 mA
    of a 4-20 mA loop; outside them the value is always flagged ``out_of_range``."""
    raw_max: NumberOrRef | None = None


class WriteLimits(_Strict):
    """A writable point; the encoder refuses values outside ``min``..``max``."""

    min: NumberOrRef
    max: NumberOrRef


class Defaults(_Strict):
    """Values for points that do not set them."""

    table: Table | None = None
    type: DataType | None = None
    word_order: WordOrderOrRef | None = None
    """Applies to 32- and 64-bit points only."""


class PointSpec(_Strict):
    """One point as written in a profile (fields may be ``$option`` references)."""

    quantity: str
    """A name of the quantity vocabulary (nzd.quantities), or ``$option`` (an option
    value ``none`` leaves the point out)."""
    table: TableOrRef | None = None
    address: AddressOrRef
    """Protocol address (0-based)."""
    type: DataType | None = None
    word_order: WordOrderOrRef | None = None
    length: Annotated[int, Field(ge=1, le=MAX_REGISTERS_PER_REQUEST)] | None = None
    """Registers of a ``string`` point."""
    bit: Annotated[int, Field(ge=0, le=15)] | None = None
    """Bit number (0 = least significant) of a ``bit`` point in a register table."""
    scale: NumberOrRef = 1
    offset: NumberOrRef = 0
    linear: Linear | None = None
    scale_factor: Address | None = None
    """Address (same table) of an i16 register holding a power-of-ten exponent
    applied after ``scale`` (SunSpec ``*_SF``)."""
    unit: str | None = None
    """Unit of the value after scale and offset; converted to the quantity's unit
    (e.g. kWh to Wh). Defaults to the quantity's unit."""
    not_available: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    """Raw bit patterns (after word order) meaning "no value", e.g. 0x8000 (SunSpec
    i16), 0xFFFF, 0x7FFFFFFF. NaN and infinity of float types always count."""
    valid: ValidRange | None = None
    write: WriteLimits | None = None
    unit_id: UnitIdOrRef | None = None
    """Unit id for this point when it differs from the device's."""
    note: str = ""


class Profile(_Strict):
    """A device profile: identity, documentation, limits, options and points."""

    manufacturer: str
    model: str
    document: Document
    kind: DeviceKind
    addressing: Addressing
    limits: Limits = Field(default_factory=Limits)
    options: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], OptionSpec] = Field(
        default_factory=dict
    )
    defaults: Defaults = Field(default_factory=Defaults)
    points: Annotated[list[PointSpec], Field(min_length=1)]
    note: str = ""

    # -- validation -------------------------------------------------------------------

    def cross_check(self) -> Iterator[tuple[Loc, str]]:
        """Checks across fields, run by :func:`nzd.config.load_model` after pydantic."""
        for name, opt in self.options.items():
            problem = opt.check(opt.default)
            if problem:
                yield ("options", name, "default"), problem
            if opt.choices is not None:
                for i, choice in enumerate(opt.choices):
                    _, errors = self._resolve(overrides={name: choice}, only_option=name)
                    for loc, msg in errors:
                        yield ("options", name, "choices", i), f"{choice!r} makes {_fmt(loc)} invalid: {msg}"
        for i, r in enumerate(self.limits.forbidden):
            if r.end < r.start:
                yield ("limits", "forbidden", i, "end"), "must not be below start"
        points, errors = self._resolve(overrides={})
        yield from errors
        # every point must be readable on its own, in one request
        if not errors:
            yield from self._check_readable(points)

    def _check_readable(self, points: list[Point]) -> Iterator[tuple[Loc, str]]:
        for p in points:
            limit = self.limits.max_bits if p.table.is_bits else self.limits.max_registers
            if p.count > limit:
                where = "length" if p.type is DataType.STRING else "type"
                yield ("points", p.index, where), (
                    f"needs {p.count} registers, more than one request may read ({limit})"
                )
            spans = [(p.address, p.address + p.count - 1, "address")]
            if p.scale_factor is not None:
                spans.append((p.scale_factor, p.scale_factor, "scale_factor"))
            for start, end, fld in spans:
                if end > 65535:
                    yield ("points", p.index, fld), "runs past address 65535"
                for r in self.limits.forbidden:
                    if r.table == p.table and start <= r.end and r.start <= end:
                        yield ("points", p.index, fld), (
                            f"lies in the forbidden range {r.start}..{r.end} of {r.table.value}"
                        )

    # -- options ----------------------------------------------------------------------

    def option_values(self, overrides: Mapping[str, Any] | None = None) -> dict[str, OptionValue]:
        values: dict[str, OptionValue] = {k: o.default for k, o in self.options.items()}
        values.update(overrides or {})
        return values

    def resolve(
        self, options: Mapping[str, Any] | None = None, *, where: str = "profile_options"
    ) -> list[Point]:
        """The concrete points with ``options`` applied over the defaults.

        Raises :class:`nzd.ConfigError` naming ``where.OPTION`` for a bad option and
        ``points[i].field`` for a point the options make invalid.
        """
        errors: list[str] = []
        for key, value in (options or {}).items():
            spec = self.options.get(key)
            if spec is None:
                known = ", ".join(sorted(self.options)) or "none"
                errors.append(f"{where}.{key}: unknown option of {self.model} (known: {known})")
                continue
            problem = spec.check(value)
            if problem:
                errors.append(f"{where}.{key}: {problem}")
        if errors:
            raise ConfigError(errors)
        points, point_errors = self._resolve(overrides=dict(options or {}))
        if not point_errors:
            point_errors = list(self._check_readable(points))
        if point_errors:
            raise ConfigError([f"{where}: {_fmt(loc)}: {msg}" for loc, msg in point_errors])
        return points

    def _resolve(
        self, *, overrides: Mapping[str, Any], only_option: str | None = None
    ) -> tuple[list[Point], list[tuple[Loc, str]]]:
        values = self.option_values(overrides)
        points: list[Point] = []
        errors: list[tuple[Loc, str]] = []
        seen: dict[str, int] = {}
        for i, spec in enumerate(self.points):
            if only_option is not None and not (
                re.search(rf'"\${only_option}"', spec.model_dump_json())
                or re.search(rf'"\${only_option}"', self.defaults.model_dump_json())
            ):
                continue
            try:
                point = _resolve_point(i, spec, self.defaults, values)
            except _PointError as exc:
                errors.extend(exc.errors)
                continue
            if point is None:
                continue
            key = f"{point.quantity}"
            if key in seen:
                errors.append(
                    (("points", i, "quantity"), f"duplicate quantity {key!r} (also points[{seen[key]}])")
                )
            seen[key] = i
            points.append(point)
        return points, errors


def _fmt(loc: Loc) -> str:
    from nzd.config import format_loc

    return format_loc(loc)


@dataclass(frozen=True, slots=True)
class Point:
    """A concrete point: options applied, units converted to the quantity's unit.

    ``value = raw * scale * 10**sf + offset`` where ``sf`` is the value of the
    ``scale_factor`` register (0 without one).
    """

    quantity: str
    table: Table
    address: int
    type: DataType
    count: int
    """Registers (or bits) the value occupies, starting at ``address``."""
    word_order: WordOrder = WordOrder.ABCD
    scale: float = 1.0
    offset: float = 0.0
    scale_factor: int | None = None
    bit: int | None = None
    not_available: frozenset[int] = field(default_factory=frozenset)
    valid_min: float | None = None
    valid_max: float | None = None
    clamp: bool = False
    raw_min: float | None = None
    raw_max: float | None = None
    write_min: float | None = None
    write_max: float | None = None
    unit_id: int | None = None
    """None: the device's unit id."""
    unit: str = ""
    """The quantity's unit (what decoded values are in)."""
    index: int = 0
    """Position in the profile's ``points`` (for error messages)."""

    @property
    def writable(self) -> bool:
        return self.write_min is not None and self.write_max is not None

    @property
    def end(self) -> int:
        """Last address the value occupies (inclusive)."""
        return self.address + self.count - 1


class _PointError(Exception):
    def __init__(self, errors: list[tuple[Loc, str]]) -> None:
        self.errors = errors


def _resolve_point(
    index: int, spec: PointSpec, defaults: Defaults, options: Mapping[str, OptionValue]
) -> Point | None:
    errors: list[tuple[Loc, str]] = []
    base: Loc = ("points", index)

    def sub(value: Any, *loc: int | str) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            name = value[1:]
            if name not in options:
                errors.append((base + loc, f"unknown option {value!r}"))
                return None
            return options[name]
        return value

    def number(value: Any, *loc: int | str) -> float | None:
        v = sub(value, *loc)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            errors.append((base + loc, f"must be a number (got {v!r})"))
            return None
        if not math.isfinite(v):
            errors.append((base + loc, "must be a finite number"))
            return None
        return float(v)

    def enum(cls: type[Any], value: Any, *loc: int | str) -> Any:
        v = sub(value, *loc)
        if v is None:
            return None
        try:
            return cls(v)
        except ValueError:
            errors.append((base + loc, f"must be one of {', '.join(m.value for m in cls)} (got {v!r})"))
            return None

    quantity = sub(spec.quantity, "quantity")
    if isinstance(quantity, str) and quantity.lower() == "none" and spec.quantity.startswith("$"):
        return None
    q = QUANTITIES.get(quantity) if isinstance(quantity, str) else None
    if quantity is not None and q is None:
        errors.append(((*base, "quantity"), f"unknown quantity {quantity!r} (see nzd.quantities)"))

    table = enum(Table, spec.table if spec.table is not None else defaults.table, "table")
    if spec.table is None and defaults.table is None:
        errors.append(((*base, "table"), "missing (set it here or in defaults.table)"))
    dtype = spec.type if spec.type is not None else defaults.type
    if dtype is None:
        errors.append(((*base, "type"), "missing (set it here or in defaults.type)"))
    address = sub(spec.address, "address")
    if address is not None and (isinstance(address, bool) or not isinstance(address, int)
                                or not 0 <= address <= 65535):
        errors.append(((*base, "address"), f"must be an integer 0..65535 (got {address!r})"))
        address = None

    # word order: explicit on the point, or the default for multi-register types
    order: WordOrder | None = None
    if spec.word_order is not None:
        order = enum(WordOrder, spec.word_order, "word_order")
        if dtype is not None and dtype.words == 1:
            errors.append(((*base, "word_order"), f"a {dtype.value} value is one register; "
                                                     "word order applies to 32- and 64-bit types"))
        if dtype is DataType.STRING and order in (WordOrder.CDAB, WordOrder.DCBA):
            errors.append(((*base, "word_order"), "a string may only swap bytes (ABCD or BADC)"))
    elif dtype is not None and dtype.words > 1 and defaults.word_order is not None:
        order = enum(WordOrder, defaults.word_order, "word_order")

    count = 0
    if dtype is DataType.STRING:
        if spec.length is None:
            errors.append(((*base, "length"), "a string needs its length in registers"))
        else:
            count = spec.length
    elif spec.length is not None and dtype is not None:
        errors.append(((*base, "length"), f"only a string has a length ({dtype.value} has "
                                             f"{dtype.words} register(s))"))
    elif dtype is not None:
        count = dtype.words

    if table is not None and dtype is not None:
        if table.is_bits and dtype is not DataType.BIT:
            errors.append(((*base, "type"), f"a {table.value} holds single bits; type must be bit"))
        if dtype is DataType.BIT and not table.is_bits and spec.bit is None:
            errors.append(((*base, "bit"), "a bit in a register needs its bit number 0..15"))
        if spec.bit is not None and (dtype is not DataType.BIT or table.is_bits):
            errors.append(((*base, "bit"), "only a bit point in a register table has a bit number"))

    # scaling
    scale = number(spec.scale, "scale")
    offset = number(spec.offset, "offset")
    if spec.linear is not None:
        if spec.scale != 1 or spec.offset != 0:
            errors.append(((*base, "linear"), "give either linear or scale/offset, not both"))
        r0 = number(spec.linear.raw[0], "linear", "raw", 0)
        r1 = number(spec.linear.raw[1], "linear", "raw", 1)
        v0 = number(spec.linear.value[0], "linear", "value", 0)
        v1 = number(spec.linear.value[1], "linear", "value", 1)
        if None not in (r0, r1, v0, v1):
            assert r0 is not None and r1 is not None and v0 is not None and v1 is not None
            if r0 == r1:
                errors.append(((*base, "linear", "raw"), "the two raw values must differ"))
            else:
                scale = (v1 - v0) / (r1 - r0)
                offset = v0 - r0 * scale
    if scale == 0:
        errors.append(((*base, "scale"), "must not be 0"))
    if dtype in (DataType.STRING, DataType.BIT) and (
        spec.scale != 1 or spec.offset != 0 or spec.linear or spec.scale_factor is not None
    ):
        errors.append(((*base, "scale"), f"a {dtype.value} point cannot be scaled"))
    if spec.scale_factor is not None and table is not None and table.is_bits:
        errors.append(((*base, "scale_factor"), "a scale factor register needs a register table"))
    if spec.scale_factor is not None and address is not None and count and (
        address <= spec.scale_factor < address + count
    ):
        errors.append(((*base, "scale_factor"), "overlaps the point's own registers"))

    factor = 1.0
    target = q.unit if q is not None else ""
    if spec.unit is not None and q is not None:
        f = unit_factor(spec.unit, q.unit)
        if f is None:
            errors.append(((*base, "unit"), f"cannot convert {spec.unit!r} to {q.name}'s unit {q.unit!r}"))
        else:
            factor = f

    if dtype is not None and dtype.words and spec.not_available:
        top = (1 << (16 * dtype.words)) - 1
        for j, pattern in enumerate(spec.not_available):
            if pattern > top:
                errors.append(((*base, "not_available", j), f"0x{pattern:X} does not fit a {dtype.value}"))

    vmin = vmax = rmin = rmax = None
    clamp = False
    if spec.valid is not None:
        rmin = number(spec.valid.raw_min, "valid", "raw_min") if spec.valid.raw_min is not None else None
        rmax = number(spec.valid.raw_max, "valid", "raw_max") if spec.valid.raw_max is not None else None
        if rmin is not None and rmax is not None and rmin > rmax:
            errors.append(((*base, "valid", "raw_min"), "must not exceed valid.raw_max"))
        vmin = number(spec.valid.min, "valid", "min") if spec.valid.min is not None else None
        vmax = number(spec.valid.max, "valid", "max") if spec.valid.max is not None else None
        clamp = spec.valid.clamp
        if vmin is not None and vmax is not None and vmin > vmax:
            errors.append(((*base, "valid", "min"), "must not exceed valid.max"))
        if clamp and (vmin is None or vmax is None):
            errors.append(((*base, "valid", "clamp"), "clamping needs both min and max"))

    wmin = wmax = None
    if spec.write is not None:
        wmin = number(spec.write.min, "write", "min")
        wmax = number(spec.write.max, "write", "max")
        if wmin is not None and wmax is not None and wmin > wmax:
            errors.append(((*base, "write", "min"), "must not exceed write.max"))
        if table is not None and not table.writable:
            errors.append(((*base, "write"), f"{table.value} is read-only; writable points live in "
                                               "holding registers or coils"))
        if dtype is DataType.STRING:
            errors.append(((*base, "write"), "string points cannot be written"))
        if spec.scale_factor is not None:
            errors.append(((*base, "write"), "writing through a scale factor register is not supported"))
        if wmin is not None and wmax is not None and dtype is not None and dtype.is_integer \
                and scale and offset is not None:
            lo, hi = _int_range(dtype)
            for bound, name in ((wmin, "min"), (wmax, "max")):
                raw = round((bound - offset) / scale)
                if not lo <= raw <= hi:
                    errors.append(((*base, "write", name), f"{bound} does not fit a {dtype.value} "
                                                           f"with scale {scale} and offset {offset}"))

    unit_id = sub(spec.unit_id, "unit_id")
    if unit_id is not None and (isinstance(unit_id, bool) or not isinstance(unit_id, int)
                                or not 0 <= unit_id <= 255):
        errors.append(((*base, "unit_id"), f"must be an integer 0..255 (got {unit_id!r})"))

    if errors:
        raise _PointError(errors)
    assert q is not None and table is not None and dtype is not None and address is not None
    assert scale is not None and offset is not None
    return Point(
        quantity=q.name,
        table=table,
        address=address,
        type=dtype,
        count=count,
        word_order=order or WordOrder.ABCD,
        scale=scale * factor,
        offset=offset * factor,
        scale_factor=spec.scale_factor,
        bit=spec.bit,
        not_available=frozenset(spec.not_available),
        valid_min=None if vmin is None else vmin * factor,
        valid_max=None if vmax is None else vmax * factor,
        clamp=clamp,
        raw_min=rmin,
        raw_max=rmax,
        write_min=None if wmin is None else wmin * factor,
        write_max=None if wmax is None else wmax * factor,
        unit_id=unit_id,
        unit=target,
        index=index,
    )


def _int_range(dtype: DataType) -> tuple[int, int]:
    bits = 16 * dtype.words
    if dtype.signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1
