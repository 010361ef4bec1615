"""Every shipped profile loads; profile validation names file, line and field."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from gateway.decode import decode
from gateway.profiles import Profile, available_profiles, load_profile
from nzd.errors import ConfigError


def f32_words(value: float) -> list[int]:
    data = struct.pack(">f", value)
    return [int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")]


@pytest.mark.parametrize("name", available_profiles())
def test_shipped_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert isinstance(profile, Profile)
    points = profile.resolve()
    assert points
    assert profile.document.version


def test_word_order_on_16_bit_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "manufacturer: X\nmodel: Y\n"
        "document: {title: T, version: '1'}\n"
        "kind: electricity_meter\n"
        "addressing: {datasheet: protocol}\n"
        "points:\n"
        "  - quantity: voltage_v\n"
        "    table: input\n"
        "    address: 0\n"
        "    type: u16\n"
        "    word_order: CDAB\n"
    )
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert len(info.value.errors) == 1
    assert info.value.errors[0].startswith(f"{path}:11: points[0].word_order: a u16 value is one register")


def test_sdm630_decodes_documented_words() -> None:
    points = {p.quantity: p for p in load_profile("eastron_sdm630").resolve()}
    # 230.0 V is 0x4366 0x0000 as an IEEE 754 float, high word first
    assert f32_words(230.0) == [0x4366, 0x0000]
    assert decode(points["voltage_l1_v"], [0x4366, 0x0000]).value == pytest.approx(230.0)
    # 1234.5 kWh import -> Wh
    assert decode(points["energy_import_wh"], f32_words(1234.5)).value == pytest.approx(1_234_500.0)
