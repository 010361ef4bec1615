"""Profiles: every shipped one loads; validation names file, line and field; options."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.profiles import Profile, Table, WordOrder, available_profiles, load_profile
from nzd.config import load_gateway_config
from nzd.errors import ConfigError
from nzd.messages import DeviceKind
from nzd.quantities import QUANTITIES

HEADER = """\
manufacturer: X
model: Y
document: {title: T, version: '1'}
kind: electricity_meter
addressing: {datasheet: protocol}
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    return info.value.errors


@pytest.mark.parametrize("name", available_profiles())
def test_shipped_profile_loads_and_resolves(name: str) -> None:
    profile = load_profile(name)
    assert isinstance(profile, Profile)
    assert profile.document.title and profile.document.version
    points = profile.resolve()
    assert points
    for p in points:
        assert p.quantity in QUANTITIES
        assert p.unit == QUANTITIES[p.quantity].unit


def test_at_least_twelve_profiles_cover_the_required_devices() -> None:
    names = available_profiles()
    assert len(names) >= 12
    kinds = {load_profile(n).kind for n in names}
    assert {DeviceKind.ELECTRICITY_METER, DeviceKind.WATER_FLOW_METER, DeviceKind.ANALOG_IO,
            DeviceKind.BATTERY} <= kinds
    models = {(load_profile(n).manufacturer, load_profile(n).model) for n in names}
    for needle in ["SDM630", "SDM120", "SDM72", "EM24", "EM340", "iEM3255", "B23", "DMG", "UMG"]:
        assert any(needle in model for _, model in models), needle


def test_profile_by_path_and_unknown_name(tmp_path: Path) -> None:
    path = Path(__file__).parents[2] / "firmware_configs/profiles/eastron_sdm630.yaml"
    assert load_profile(path).model == "SDM630"
    with pytest.raises(ConfigError, match="no such profile"):
        load_profile("no_such_device")


def test_example_gateway_config_profiles_exist() -> None:
    examples = Path(__file__).parents[2] / "firmware_configs/examples"
    for path in examples.glob("gateway*.yaml"):
        config = load_gateway_config(path)
        for device in config.devices:
            if device.profile in available_profiles():
                load_profile(device.profile).resolve(device.profile_options)


# -- validation errors name file, line and field --------------------------------------


def test_word_order_on_16_bit_type_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        points:
          - quantity: voltage_v
            table: input
            address: 0
            type: u16
            word_order: CDAB
        """)
    errs = errors_of(path)
    assert errs == [f"{path}:11: points[0].word_order: a u16 value is one register; "
                    "word order applies to 32- and 64-bit types"]


@pytest.mark.parametrize(
    ("point", "line", "field", "message"),
    [
        ("{quantity: volts, table: input, address: 0, type: u16}", 7, "points[0].quantity",
         "unknown quantity"),
        ("{quantity: voltage_v, table: input, address: 70000, type: u16}", 7, "points[0].address",
         "less than"),
        ("{quantity: voltage_v, table: input, address: 0, type: u17}", 7, "points[0].type",
         "input should be"),
        ("{quantity: voltage_v, table: input, address: 0, type: f32, unit: mph}", 7, "points[0].unit",
         "cannot convert 'mph'"),
        ("{quantity: voltage_v, table: coil, address: 0, type: u16}", 7, "points[0].type",
         "holds single bits"),
        ("{quantity: voltage_v, table: input, address: 0, type: u16, write: {min: 0, max: 1}}", 7,
         "points[0].write", "read-only"),
        ("{quantity: voltage_v, table: holding, address: 0, type: u16, write: {min: 0, max: 70000}}", 7,
         "points[0].write.max", "does not fit a u16"),
        ("{quantity: voltage_v, table: input, address: 0, type: string}", 7, "points[0].length",
         "needs its length"),
        ("{quantity: voltage_v, table: input, address: 0, type: u16, scale: 0}", 7, "points[0].scale",
         "must not be 0"),
        ("{quantity: voltage_v, table: input, address: 0, type: u16, not_available: [0x10000]}", 7,
         "points[0].not_available[0]", "does not fit"),
        ("{quantity: voltage_v, table: input, address: 0, type: u16, scale_factor: 0}", 7,
         "points[0].scale_factor", "overlaps"),
        ("{quantity: voltage_v, table: input, address: 0, type: u16, colour: red}", 7, "points[0].colour",
         "unknown field"),
        ("{quantity: voltage_v, address: 0, type: u16}", 7, "points[0].table", "missing"),
        ("{quantity: $nope, table: input, address: 0, type: u16}", 7, "points[0].quantity",
         "unknown option '$nope'"),
    ],
)
def test_point_errors(tmp_path: Path, point: str, line: int, field: str, message: str) -> None:
    path = write(tmp_path, f"points:\n  - {point}\n")
    errs = errors_of(path)
    assert any(e.startswith(f"{path}:{line}: {field}: ") and message in e for e in errs), errs


def test_duplicate_quantity_and_forbidden_overlap(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        limits:
          forbidden: [{table: holding, start: 10, end: 19}]
        defaults: {table: holding, type: u16}
        points:
          - {quantity: voltage_v, address: 0}
          - {quantity: voltage_v, address: 1}
          - {quantity: current_a, address: 12}
        """)
    errs = errors_of(path)
    assert f"{path}:11: points[1].quantity: duplicate quantity 'voltage_v' (also points[0])" in errs


def test_forbidden_overlap_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        limits:
          max_registers: 2
          forbidden: [{table: holding, start: 10, end: 19}]
        defaults: {table: holding}
        points:
          - {quantity: voltage_v, address: 12, type: u16}
          - {quantity: current_a, address: 0, type: u64}
        """)
    errs = errors_of(path)
    forbidden = f"{path}:11: points[0].address: lies in the forbidden range 10..19"
    assert any(e.startswith(forbidden) for e in errs)
    assert any(e.startswith(f"{path}:12: points[1].type: needs 4 registers") for e in errs)


# -- options ------------------------------------------------------------------------


OPTIONS = """\
options:
  order: {description: word order, default: CDAB, choices: [ABCD, CDAB]}
  span: {description: full scale, default: 100}
  what: {description: meaning, default: tank_level_pct, choices: [tank_level_pct, water_pressure_bar, none]}
defaults: {table: holding, word_order: $order}
points:
  - {quantity: active_power_w, address: 0, type: i32}
  - quantity: $what
    address: 2
    type: u16
    linear: {raw: [4000, 20000], value: [0, $span]}
"""


def test_options_substitute_and_override(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(HEADER + OPTIONS)
    profile = load_profile(path)
    power, level = profile.resolve()
    assert power.word_order is WordOrder.CDAB and power.table is Table.HOLDING
    assert level.quantity == "tank_level_pct" and level.word_order is WordOrder.ABCD
    assert level.scale * 12000 + level.offset == pytest.approx(50.0)
    power, pressure = profile.resolve({"order": "ABCD", "what": "water_pressure_bar", "span": 10})
    assert power.word_order is WordOrder.ABCD
    assert pressure.quantity == "water_pressure_bar"
    assert pressure.scale * 20000 + pressure.offset == pytest.approx(10.0)
    (only,) = profile.resolve({"what": "none"})
    assert only.quantity == "active_power_w"


def test_bad_options_are_named(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(HEADER + OPTIONS)
    profile = load_profile(path)
    with pytest.raises(ConfigError) as info:
        profile.resolve({"order": "XYZW", "colour": 1, "span": "big"})
    assert info.value.errors == [
        "profile_options.order: must be one of: ABCD, CDAB (got 'XYZW')",
        "profile_options.colour: unknown option of Y (known: order, span, what)",
        "profile_options.span: must be a number (got 'big')",
    ]
    with pytest.raises(ConfigError) as info:
        profile.resolve({"what": "active_power_w"})
    assert "must be one of" in info.value.errors[0]


def test_bad_option_default_and_choice_are_reported_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(HEADER + OPTIONS.replace("default: CDAB, choices: [ABCD, CDAB]",
                                             "default: CDAB, choices: [ABCD, CDAB, XYZW]"))
    errs = errors_of(path)
    assert any(e.startswith(f"{path}:11: defaults.word_order: ") or "points[0].word_order" in e for e in errs)
    assert any("XYZW" in e for e in errs)


def test_nzd_config_check_validates_profiles(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from firmware_configs import PROFILES_DIR
    from nzd.cli.app import app

    files = sorted(str(p) for p in PROFILES_DIR.glob("*.yaml"))
    result = CliRunner().invoke(app, ["config", "check", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok (profile)") == len(files)
    point = "{quantity: voltage_v, table: input, address: 0, type: u16, word_order: ABCD}"
    bad = write(tmp_path, f"points:\n  - {point}\n")
    result = CliRunner().invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:7: points[0].word_order: a u16 value is one register" in result.output
