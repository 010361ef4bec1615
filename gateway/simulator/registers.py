"""Values to register words: the inverse of gateway.decode, for any profile point.

The simulator keeps one :class:`RegisterImage` per device: the words of every
table, rebuilt from the model's values at each tick. Scale factor registers
(SunSpec style) get the smallest power of ten that lets every value that shares
them fit its type, as a real inverter would choose.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.decode import pack, swap
from gateway.profiles import DataType, Limits, Point, Table

__all__ = ["RegisterImage", "encode_raw", "table_spans"]

_NAN_F32 = [0x7FC0, 0x0000]
_NAN_F64 = [0x7FF8, 0, 0, 0]


def _int_range(dtype: DataType) -> tuple[int, int]:
    bits = 16 * dtype.words
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if dtype.signed else (0, (1 << bits) - 1)


def encode_raw(point: Point, value: float | str, *, exponent: int = 0) -> list[int]:
    """Words in address order (as a device sends them) that decode to ``value``."""
    dtype = point.type
    if dtype is DataType.STRING:
        data = str(value).encode("latin-1", "replace")[: point.count * 2].ljust(point.count * 2, b"\x00")
        words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        return swap(words, point.word_order) if point.word_order.swap_bytes else words
    assert not isinstance(value, str)
    raw = (value - point.offset) / (point.scale * 10.0**exponent)
    if dtype.is_float:
        words = pack(raw, dtype)
    elif dtype is DataType.BIT:
        words = [1 if raw else 0]
    else:
        low, high = _int_range(dtype)
        n = min(max(round(raw), low), high) if math.isfinite(raw) else high
        words = pack(n, dtype)
    return swap(words, point.word_order) if dtype.words > 1 else words


def not_available_words(point: Point) -> list[int]:
    """What a device sends for "no value": the profile's pattern, else NaN, else all ones."""
    if point.not_available:
        pattern = min(point.not_available)
        words = [(pattern >> (16 * (point.count - 1 - i))) & 0xFFFF for i in range(point.count)]
    elif point.type is DataType.F32:
        words = list(_NAN_F32)
    elif point.type is DataType.F64:
        words = list(_NAN_F64)
    else:
        words = [0xFFFF] * point.count
    return swap(words, point.word_order) if point.type.words > 1 else words


def table_spans(points: Iterable[Point], limits: Limits) -> dict[Table, tuple[int, int]]:
    """Per table, the first and last address the device serves (points and scale factors)."""
    spans: dict[Table, tuple[int, int]] = {}
    for p in points:
        lo, hi = p.address, p.end
        if p.scale_factor is not None:
            lo, hi = min(lo, p.scale_factor), max(hi, p.scale_factor)
        a, b = spans.get(p.table, (lo, hi))
        spans[p.table] = (min(a, lo), max(b, hi))
    # a device usually answers a little beyond its last point; the planner may read through gaps
    return {t: (a, min(b + limits.max_gap, 65535)) for t, (a, b) in spans.items()}


@dataclass(slots=True)
class RegisterImage:
    """The words of every table of one device, keyed by protocol address."""

    points: list[Point]
    words: dict[Table, dict[int, int]] = field(default_factory=dict)
    exponents: dict[tuple[Table, int], int] = field(default_factory=dict)

    def update(self, values: Mapping[str, float | str], *, nan: Iterable[str] = ()) -> None:
        nan_set = set(nan)
        self._choose_exponents(values)
        for p in self.points:
            table = self.words.setdefault(p.table, {})
            if p.quantity in nan_set:
                data = not_available_words(p)
            elif p.quantity in values:
                exp = self.exponents.get((p.table, p.scale_factor), 0) if p.scale_factor is not None else 0
                data = encode_raw(p, values[p.quantity], exponent=exp)
            else:
                continue
            if p.type is DataType.BIT and not p.table.is_bits and p.bit is not None:
                old = table.get(p.address, 0)
                mask = 1 << p.bit
                table[p.address] = (old | mask) if data[0] else (old & ~mask)
                continue
            for i, w in enumerate(data):
                table[p.address + i] = w & 0xFFFF
        for (t, addr), exp in self.exponents.items():
            self.words.setdefault(t, {})[addr] = exp & 0xFFFF

    def _choose_exponents(self, values: Mapping[str, float | str]) -> None:
        need: dict[tuple[Table, int], int] = {}
        for p in self.points:
            if p.scale_factor is None:
                continue
            key = (p.table, p.scale_factor)
            v = values.get(p.quantity)
            exp = -2
            if isinstance(v, int | float) and math.isfinite(v) and p.type.is_integer:
                high = _int_range(p.type)[1]
                raw = abs((v - p.offset) / p.scale)
                while exp < 6 and raw / 10.0**exp > high * 0.999:
                    exp += 1
            need[key] = max(need.get(key, -2), exp)
        self.exponents = need

    def set_words(self, table: Table, address: int, words: list[int]) -> None:
        t = self.words.setdefault(table, {})
        for i, w in enumerate(words):
            t[address + i] = w & 0xFFFF


def f32_words(value: float) -> list[int]:
    """ABCD words of an IEEE 754 single (a helper for tests and the SunSpec image)."""
    a, b = struct.unpack(">HH", struct.pack(">f", value))
    return [a, b]
