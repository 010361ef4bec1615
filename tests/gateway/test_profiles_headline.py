"""Profiles name their headline quantities: checked against their own points, refused with file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.profiles import available_profiles, load_profile
from nzd.errors import ConfigError

HEADER = """\
manufacturer: X
model: Y
document: {title: T, version: '1'}
kind: analog_io
addressing: {datasheet: protocol}
defaults: {table: input, type: u16}
options:
  ch1_quantity:
    {description: channel 1, default: tank_level_pct, choices: [tank_level_pct, water_pressure_bar, none]}
points:
  - {quantity: active_power_w, address: 0}
  - {quantity: $ch1_quantity, address: 1}
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "h.yaml"
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def test_unknown_headline_name_is_refused_naming_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "headline:\n  - active_power_w\n  - battery_soc_pct\n")
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert len(info.value.errors) == 1
    assert info.value.errors[0].startswith(
        f"{path}:15: headline[1]: 'battery_soc_pct' is not a quantity of this profile's points (known: ")


def test_headline_named_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "headline: [active_power_w, active_power_w]\n")
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert info.value.errors == [f"{path}:13: headline[1]: 'active_power_w' is named twice"]


def test_headline_may_name_an_option_quantity_and_options_may_leave_it_out(tmp_path: Path) -> None:
    path = write(tmp_path, "headline: [water_pressure_bar, tank_level_pct, active_power_w]\n")
    profile = load_profile(path)
    assert profile.headline_of(profile.resolve()) == ["tank_level_pct", "active_power_w"]
    pressure = profile.resolve({"ch1_quantity": "water_pressure_bar"})
    assert profile.headline_of(pressure) == ["water_pressure_bar", "active_power_w"]
    assert profile.headline_of(profile.resolve({"ch1_quantity": "none"})) == ["active_power_w"]


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_declares_headlines_its_points_read(name: str) -> None:
    profile = load_profile(name)
    assert profile.headline, f"{name} declares no headline"
    shown = profile.headline_of(profile.resolve())
    # with the default options, the first headline quantity is one the device reads
    assert shown and shown[0] == profile.headline[0]
    # in units the dashboard reads them in
    assert all(q.endswith(("_w", "_pct", "_m3h", "_bar", "_m")) for q in shown), shown
