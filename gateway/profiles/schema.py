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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from gateway.profiles.headline import check_headline, headline_of
from gateway.profiles.point import Point, PointError, resolve_point
from gateway.profiles.refs import (
    Address,
    AddressOrRef,
    Number,
    NumberOrRef,
    OptionRef,
    OptionValue,
    TableOrRef,
    UnitIdOrRef,
    WordOrderOrRef,
)
from gateway.profiles.types import (
    MAX_BITS_PER_REQUEST,
    MAX_REGISTERS_PER_REQUEST,
    UNIT_FACTORS,
    DataType,
    Table,
    WordOrder,
    unit_factor,
)
from nzd.errors import ConfigError
from nzd.messages import DeviceKind

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

Loc = tuple[int | str, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    headline: list[str] = Field(default_factory=list)
    """The quantities a person reads this device by (e.g. total active power; a battery's
    power and state of charge), in order; the dashboard's device rows show these."""
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
        yield from check_headline(self.headline, self.points, self.options)
        points, errors = self._resolve(overrides={})
        yield from errors
        # every point must be readable on its own, in one request
        if not errors:
            yield from self._check_readable(points)

    def headline_of(self, points: list[Point]) -> list[str]:
        """The headline quantities the resolved ``points`` read (options may leave some out)."""
        return headline_of(self.headline, points)

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
                point = resolve_point(i, spec, self.defaults, values)
            except PointError as exc:
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
