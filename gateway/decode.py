"""The decode pipeline: register words to a value or a quality flag, and back.

Every point goes through the same fixed steps::

    swap -> unpack -> NaN/sentinel check -> scale -> offset -> range check

``decode(point, words)`` never raises on device data and never drops a value
silently: a value that fails a check comes back with a :class:`nzd.Quality`
flag. ``encode(point, value)`` is the inverse for writable points and refuses
values outside the point's write limits.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.profiles.schema import DataType, Point, Table, WordOrder
from nzd.messages import Quality

__all__ = [
    "EncodeError",
    "Reading",
    "decode",
    "encode",
    "pack",
    "raw_pattern",
    "swap",
    "unpack",
]


class EncodeError(ValueError):
    """A value cannot be written to a point (not writable, out of limits, not finite)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """The outcome of decoding one point.

    ``quality`` is None for a good value. With ``out_of_range`` the value is the
    one read (so that it can be looked at); with ``uncertain`` it was clamped to
    the valid range; with ``nan``, ``bad`` or ``comm_error`` there is no value.
    ``raw`` is the unpacked number before scaling (None when nothing was read).
    """

    value: float | str | None
    quality: Quality | None = None
    raw: int | float | str | None = None
    detail: str = ""

    @property
    def good(self) -> bool:
        return self.quality is None


# -- the steps ---------------------------------------------------------------------


def swap(words: Sequence[int], order: WordOrder) -> list[int]:
    """Bring ``words`` as read into ABCD order (high word first, high byte first).

    Every order is its own inverse, so the same call prepares words for writing.
    """
    out = [w & 0xFFFF for w in words]
    if order.swap_bytes:
        out = [((w & 0xFF) << 8) | (w >> 8) for w in out]
    if order.swap_words:
        out.reverse()
    return out


def raw_pattern(words: Sequence[int]) -> int:
    """The big-endian integer of ABCD-ordered ``words`` (what sentinels compare to)."""
    value = 0
    for w in words:
        value = (value << 16) | (w & 0xFFFF)
    return value


def unpack(words: Sequence[int], dtype: DataType, bit: int | None = None) -> int | float | str:
    """The value of ABCD-ordered ``words`` as ``dtype``."""
    if dtype is DataType.BIT:
        if bit is None:
            return 1 if words[0] else 0
        return (words[0] >> bit) & 1
    if dtype is DataType.STRING:
        data = b"".join(w.to_bytes(2, "big") for w in words)
        return data.split(b"\x00", 1)[0].decode("latin-1").strip()
    if len(words) != dtype.words:
        raise ValueError(f"a {dtype.value} needs {dtype.words} register(s), got {len(words)}")
    pattern = raw_pattern(words)
    if dtype is DataType.F32:
        return float(struct.unpack(">f", pattern.to_bytes(4, "big"))[0])
    if dtype is DataType.F64:
        return float(struct.unpack(">d", pattern.to_bytes(8, "big"))[0])
    bits = 16 * dtype.words
    if dtype.signed and pattern >= 1 << (bits - 1):
        return pattern - (1 << bits)
    return pattern


def pack(value: int | float, dtype: DataType) -> list[int]:
    """ABCD-ordered words of ``value`` as ``dtype`` (integers must fit)."""
    if dtype is DataType.BIT:
        return [1 if value else 0]
    if dtype is DataType.F32:
        data = struct.pack(">f", value)
    elif dtype is DataType.F64:
        data = struct.pack(">d", value)
    elif dtype.is_integer:
        n = dtype.words * 2
        data = int(value).to_bytes(n, "big", signed=dtype.signed)
    else:
        raise ValueError(f"cannot pack a {dtype.value}")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


# -- the pipeline ------------------------------------------------------------------


def decode(
    point: Point,
    words: Sequence[int] | Sequence[bool] | None,
    scale_factor: int | None = None,
) -> Reading:
    """Decode the registers (or bits) of ``point``.

    ``words`` are the point's ``count`` registers as read, in address order (for a
    coil or discrete input: one bit); None means the read failed
    (``comm_error``). ``scale_factor`` is the raw word of the point's scale factor
    register, required when the point has one.
    """
    if words is None:
        return Reading(None, Quality.COMM_ERROR, None, "not read")
    regs = [int(w) for w in words]
    if len(regs) != point.count:
        return Reading(None, Quality.BAD, None, f"expected {point.count} word(s), got {len(regs)}")
    if any(not 0 <= w <= 0xFFFF for w in regs):
        return Reading(None, Quality.BAD, None, "register value outside 0..0xFFFF")

    # 1. swap
    ordered = swap(regs, point.word_order) if point.type.words > 1 or point.type is DataType.STRING else regs
    # 2. unpack
    raw = unpack(ordered, point.type, point.bit)
    if isinstance(raw, str):
        return Reading(raw, None, raw)
    # 3. NaN / sentinel
    if point.not_available and point.type is not DataType.BIT and raw_pattern(ordered) in point.not_available:
        return Reading(None, Quality.NAN, raw, f"0x{raw_pattern(ordered):X} means not available")
    if isinstance(raw, float) and not math.isfinite(raw):
        return Reading(None, Quality.NAN, raw, "not a finite number")
    # 4. scale (with the SunSpec-style exponent)
    factor = point.scale
    if point.scale_factor is not None:
        if scale_factor is None:
            return Reading(None, Quality.BAD, raw, "scale factor register not read")
        sf = int(scale_factor) & 0xFFFF
        if sf == 0x8000:
            return Reading(None, Quality.BAD, raw, "scale factor not implemented (0x8000)")
        exponent = sf - 0x10000 if sf >= 0x8000 else sf
        if not -10 <= exponent <= 10:
            return Reading(None, Quality.BAD, raw, f"implausible scale factor {exponent}")
        factor = factor * 10.0**exponent
    value = _scaled(raw, factor)
    # 5. offset
    value = value + point.offset
    if not math.isfinite(value):
        return Reading(None, Quality.NAN, raw, "not a finite number after scaling")
    # 6. range check (raw limits first: they say the signal itself is implausible)
    rlow, rhigh = point.raw_min, point.raw_max
    if (rlow is not None and raw < rlow) or (rhigh is not None and raw > rhigh):
        return Reading(value, Quality.OUT_OF_RANGE, raw, f"raw {raw} outside {rlow}..{rhigh}")
    low, high = point.valid_min, point.valid_max
    if (low is not None and value < low) or (high is not None and value > high):
        if point.clamp and low is not None and high is not None:
            return Reading(min(max(value, low), high), Quality.UNCERTAIN, raw,
                           f"{value} clamped to {low}..{high}")
        return Reading(value, Quality.OUT_OF_RANGE, raw, f"{value} outside {low}..{high}")
    return Reading(value, None, raw)


def _scaled(raw: int | float, factor: float) -> float:
    """``raw * factor``, dividing by 10**n instead of multiplying by 0.1**n.

    2301 * 0.1 is 230.10000000000002 while 2301 / 10 is 230.1: register values with
    a decimal resolution come out as the number the datasheet means.
    """
    if factor == 0:
        return 0.0
    inverse = 1.0 / factor
    rounded = round(inverse)
    if rounded != 0 and abs(inverse - rounded) < 1e-9 * abs(inverse) and abs(factor) < 1:
        return float(raw) / rounded
    return float(raw) * factor


def encode(point: Point, value: float) -> list[int]:
    """The registers (in address order, as written) that set ``point`` to ``value``.

    For a coil the single word is 0 or 1. Raises :class:`EncodeError` when the
    point is not writable, ``value`` is not finite or lies outside the point's
    write limits, or the scaled value does not fit the register type.
    """
    if not point.writable:
        raise EncodeError(f"{point.quantity} is not writable")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EncodeError(f"{point.quantity}: {value!r} is not a finite number")
    assert point.write_min is not None and point.write_max is not None
    if not point.write_min <= value <= point.write_max:
        raise EncodeError(
            f"{point.quantity}: {value} outside the write limits {point.write_min}..{point.write_max}"
        )
    if point.type is DataType.BIT:
        if point.table is not Table.COIL:
            raise EncodeError(f"{point.quantity}: a bit inside a register cannot be written alone")
        return [1 if value else 0]
    raw = (value - point.offset) / point.scale
    if point.type.is_integer:
        n = round(raw)
        bits = 16 * point.type.words
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if point.type.signed else (0, (1 << bits) - 1)
        if not low <= n <= high:
            raise EncodeError(f"{point.quantity}: {value} does not fit a {point.type.value}")
        words = pack(n, point.type)
    else:
        try:
            words = pack(raw, point.type)
        except (OverflowError, struct.error):
            raise EncodeError(f"{point.quantity}: {value} does not fit a {point.type.value}") from None
    return swap(words, point.word_order) if point.type.words > 1 else words
