"""Concrete points: a profile's point spec with its options applied and units converted."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.profiles.types import DataType, Table, WordOrder, unit_factor
from nzd.quantities import QUANTITIES

if TYPE_CHECKING:
    from gateway.profiles.schema import Defaults, Loc, OptionValue, PointSpec

__all__ = ["Point", "PointError", "resolve_point"]


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


class PointError(Exception):
    def __init__(self, errors: list[tuple[Loc, str]]) -> None:
        self.errors = errors


def resolve_point(
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
        raise PointError(errors)
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
