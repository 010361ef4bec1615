"""The decode pipeline (swap, unpack, NaN/sentinel, scale, offset, range) and the encoder."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.decode import EncodeError, Reading, decode, encode, pack, swap, unpack
from gateway.profiles import DataType, Point, Table, WordOrder
from nzd.messages import Quality


def point(type_: DataType = DataType.U16, **kw) -> Point:
    count = kw.pop("count", type_.words or 1)
    return Point(quantity=kw.pop("quantity", "active_power_w"), table=kw.pop("table", Table.HOLDING),
                 address=kw.pop("address", 0), type=type_, count=count, **kw)


# -- swap and unpack -----------------------------------------------------------------

F32_230 = [0x4366, 0x0000]  # 230.0 as IEEE 754, high word first


@pytest.mark.parametrize(
    ("order", "wire"),
    [
        (WordOrder.ABCD, [0x4366, 0x0000]),
        (WordOrder.CDAB, [0x0000, 0x4366]),
        (WordOrder.BADC, [0x6643, 0x0000]),
        (WordOrder.DCBA, [0x0000, 0x6643]),
    ],
)
def test_f32_in_every_word_order(order: WordOrder, wire: list[int]) -> None:
    assert swap(wire, order) == F32_230
    assert decode(point(DataType.F32, word_order=order), wire).value == 230.0


def test_64_bit_word_orders() -> None:
    # 0x0102030405060708 as u64
    abcd = [0x0102, 0x0304, 0x0506, 0x0708]
    assert unpack(swap(abcd, WordOrder.ABCD), DataType.U64) == 0x0102030405060708
    assert swap([0x0708, 0x0506, 0x0304, 0x0102], WordOrder.CDAB) == abcd
    assert swap([0x0201, 0x0403, 0x0605, 0x0807], WordOrder.BADC) == abcd
    assert swap([0x0807, 0x0605, 0x0403, 0x0201], WordOrder.DCBA) == abcd
    # f64 100.0 = 0x4059000000000000
    assert decode(point(DataType.F64), [0x4059, 0, 0, 0]).value == 100.0


@pytest.mark.parametrize(
    ("dtype", "words", "expected"),
    [
        (DataType.U16, [0xFFFF], 65535),
        (DataType.I16, [0xFFFF], -1),
        (DataType.I16, [0x8000], -32768),
        (DataType.U32, [0x0001, 0x0000], 65536),
        (DataType.I32, [0xFFFF, 0xFFFE], -2),
        (DataType.U64, [0, 0, 1, 0], 65536),
        (DataType.I64, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], -1),
    ],
)
def test_integers(dtype: DataType, words: list[int], expected: int) -> None:
    assert unpack(words, dtype) == expected


def test_string_and_bits() -> None:
    s = point(DataType.STRING, count=4, quantity="status_word")
    assert decode(s, [0x4142, 0x4344, 0x2000, 0x0000]).value == "ABCD"
    coil = point(DataType.BIT, table=Table.COIL, quantity="pump_running")
    assert decode(coil, [True]).value == 1.0
    assert decode(coil, [False]).value == 0.0
    in_register = point(DataType.BIT, bit=3, quantity="pump_running")
    assert decode(in_register, [0b1000]).value == 1.0
    assert decode(in_register, [0b0111]).value == 0.0


# -- the pipeline --------------------------------------------------------------------


def test_scale_then_offset() -> None:
    p = point(DataType.I16, scale=0.1, offset=-40.0)
    r = decode(p, [650])
    assert r == Reading(25.0, None, 650)


def test_decimal_scales_give_the_datasheet_number() -> None:
    assert decode(point(DataType.U32, scale=0.1), [0, 2301]).value == 230.1
    assert decode(point(DataType.U32, scale=0.01), [0, 23012]).value == 230.12


def test_sentinel_is_checked_before_scaling_on_the_raw_pattern() -> None:
    p = point(DataType.I16, scale=10.0, not_available=frozenset({0x8000}))
    r = decode(p, [0x8000])
    assert r.value is None and r.quality is Quality.NAN and r.raw == -32768
    assert decode(p, [0x7FFF]).value == 327670.0


def test_sentinel_compares_after_the_word_order() -> None:
    p = point(DataType.U32, word_order=WordOrder.CDAB, not_available=frozenset({0xFFFF0000}))
    assert decode(p, [0x0000, 0xFFFF]).quality is Quality.NAN
    assert decode(p, [0xFFFF, 0x0000]).quality is None


def test_float_nan_and_infinity_are_flagged() -> None:
    assert decode(point(DataType.F32), [0x7FC0, 0x0000]).quality is Quality.NAN
    assert decode(point(DataType.F32), [0x7F80, 0x0000]).quality is Quality.NAN
    assert decode(point(DataType.F32), [0xFF80, 0x0000]).quality is Quality.NAN


def test_sunspec_scale_factor() -> None:
    p = point(DataType.I16, scale_factor=10, not_available=frozenset({0x8000}))
    assert decode(p, [1234], scale_factor=0xFFFE).value == pytest.approx(12.34)  # sf -2
    assert decode(p, [1234], scale_factor=2).value == 123400.0
    bad = decode(p, [1234], scale_factor=0x8000)
    assert bad.quality is Quality.BAD and bad.value is None
    assert decode(p, [1234]).quality is Quality.BAD  # scale factor not read
    assert decode(p, [1234], scale_factor=40).quality is Quality.BAD  # implausible exponent


def test_range_flag_keeps_the_value() -> None:
    p = point(DataType.U16, valid_min=0.0, valid_max=100.0)
    r = decode(p, [150])
    assert r.value == 150.0 and r.quality is Quality.OUT_OF_RANGE


def test_range_clamp_marks_uncertain() -> None:
    p = point(DataType.I16, valid_min=0.0, valid_max=100.0, clamp=True)
    assert decode(p, [101]) .value == 100.0
    assert decode(p, [101]).quality is Quality.UNCERTAIN
    assert decode(p, [0xFFFF]).value == 0.0
    assert decode(p, [50]).quality is None


def test_raw_range_flags_a_broken_loop() -> None:
    p = point(DataType.I16, scale=100 / 16000, offset=-25.0, raw_min=3800.0, raw_max=20500.0)
    assert decode(p, [12000]).value == pytest.approx(50.0)
    broken = decode(p, [0])
    assert broken.quality is Quality.OUT_OF_RANGE and broken.raw == 0


def test_failed_reads_are_never_dropped() -> None:
    p = point(DataType.U32)
    assert decode(p, None) == Reading(None, Quality.COMM_ERROR, None, "not read")
    assert decode(p, [1]).quality is Quality.BAD  # short response
    assert decode(p, [1, 0x10000]).quality is Quality.BAD  # not a register value


# -- the encoder ---------------------------------------------------------------------


def test_encode_respects_limits_and_type() -> None:
    p = point(DataType.I16, quantity="battery_power_setpoint_w", scale=-1.0,
              write_min=-5000.0, write_max=5000.0)
    assert encode(p, 2000) == [(-2000) & 0xFFFF]
    assert decode(p, encode(p, -1500)).value == -1500.0
    with pytest.raises(EncodeError, match="outside the write limits"):
        encode(p, 5001)
    with pytest.raises(EncodeError, match="finite"):
        encode(p, math.nan)
    with pytest.raises(EncodeError, match="not writable"):
        encode(point(DataType.I16), 1)


def test_encode_word_order_and_float() -> None:
    p = point(DataType.F32, word_order=WordOrder.CDAB, write_min=-1e6, write_max=1e6)
    assert encode(p, 230.0) == [0x0000, 0x4366]
    big = point(DataType.F32, write_min=-1e300, write_max=1e300)
    with pytest.raises(EncodeError, match="does not fit"):
        encode(big, 1e300)
    tiny = point(DataType.U16, write_min=0.0, write_max=1e9)
    with pytest.raises(EncodeError, match="does not fit"):
        encode(tiny, 70000)


def test_encode_coil() -> None:
    coil = point(DataType.BIT, table=Table.COIL, quantity="load_running", write_min=0.0, write_max=1.0)
    assert encode(coil, 1) == [1]
    assert encode(coil, 0) == [0]


INT_TYPES = [DataType.U16, DataType.I16, DataType.U32, DataType.I32, DataType.U64, DataType.I64]


@settings(max_examples=300, deadline=None)
@given(
    dtype=st.sampled_from(INT_TYPES),
    order=st.sampled_from(list(WordOrder)),
    scale=st.sampled_from([1.0, 0.1, 0.01, 10.0, -1.0, 0.001]),
    offset=st.sampled_from([0.0, -40.0, 1000.0]),
    data=st.data(),
)
def test_encode_then_decode_is_identity_for_integers(dtype, order, scale, offset, data) -> None:
    bits = 16 * dtype.words
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if dtype.signed else (0, (1 << bits) - 1)
    raw = data.draw(st.integers(min_value=max(low, -(10**12)), max_value=min(high, 10**12)))
    value = raw * scale + offset
    p = point(dtype, word_order=order if dtype.words > 1 else WordOrder.ABCD, scale=scale, offset=offset,
              write_min=-1e18, write_max=1e18)
    words = encode(p, value)
    assert len(words) == dtype.words and all(0 <= w <= 0xFFFF for w in words)
    back = decode(p, words)
    assert back.quality is None
    assert back.raw == raw
    assert back.value == pytest.approx(value, rel=1e-12, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False, width=32),
       order=st.sampled_from(list(WordOrder)))
def test_f32_round_trip(value: float, order: WordOrder) -> None:
    p = point(DataType.F32, word_order=order, write_min=-math.inf, write_max=math.inf)
    assert decode(p, encode(p, value)).value == value
    data = struct.pack(">f", value)
    assert pack(value, DataType.F32) == [int.from_bytes(data[i:i + 2], "big") for i in (0, 2)]
