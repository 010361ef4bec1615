"""Configuration files: valid examples load; mistakes name the file, the line and the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nzd.config import load_district, load_gateway_config
from nzd.errors import ConfigError

EXAMPLES = Path(__file__).parents[2] / "firmware_configs" / "examples"


def test_examples_load() -> None:
    district = load_district(EXAMPLES / "district.yaml")
    assert district.district == "prato-est"
    battery = district.site("depuratore").batteries[0]
    assert battery.shares is not None and sum(battery.shares.values()) == pytest.approx(1)
    gateway = load_gateway_config(EXAMPLES / "gateway-depuratore.yaml")
    assert gateway.assets[0].fallback.value == 0


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


DISTRICT = """\
district: test
sites:
  - id: a
    name: A
    batteries:
      - id: bat
        capacity_kwh: {capacity}
        charge_kw: 10
        discharge_kw: 10
"""


def test_wrong_type_names_file_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "district.yaml", DISTRICT.format(capacity="lots"))
    with pytest.raises(ConfigError) as info:
        load_district(path)
    assert f"{path}:7: sites[0].batteries[0].capacity_kwh:" in str(info.value)


def test_out_of_range_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "district.yaml", DISTRICT.format(capacity=0))
    with pytest.raises(ConfigError) as info:
        load_district(path)
    assert f"{path}:7: sites[0].batteries[0].capacity_kwh: input should be greater than 0" in str(
        info.value
    )


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    text = DISTRICT.format(capacity=10) + "        capacity_kwhh: 5\n"
    path = _write(tmp_path, "district.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_district(path)
    assert f"{path}:10: sites[0].batteries[0].capacity_kwhh: unknown field" in str(info.value)


def test_cross_references_are_checked(tmp_path: Path) -> None:
    text = DISTRICT.format(capacity=10) + "        shares: {a: 0.5, b: 0.4}\n"
    path = _write(tmp_path, "district.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_district(path)
    message = str(info.value)
    assert "sites[0].batteries[0].shares.b: unknown site 'b'" in message
    assert "shares must add up to 1" in message


def test_water_sections_are_cross_checked(tmp_path: Path) -> None:
    text = DISTRICT.format(capacity=10) + """\
    water:
      meters:
        - {device: intake, role: intake}
      production_device: line-counter
"""
    path = _write(tmp_path, "district.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_district(path)
    message = str(info.value)
    assert "sites[0].water.meters[0].source: an intake meter needs a source" in message
    assert "sites[0].water.production_unit: production_device counts output" in message


def test_power_levels_are_for_batches_that_cannot_be_interrupted(tmp_path: Path) -> None:
    text = DISTRICT.format(capacity=10) + """\
    flexible_loads:
      - {id: wash, energy_kwh: 20, power_kw: 10, interruptible: true, power_levels_kw: [5]}
"""
    path = _write(tmp_path, "district.yaml", text)
    with pytest.raises(ConfigError, match=r"flexible_loads\[0\]\.power_levels_kw: only a non-interr"):
        load_district(path)
    slow = _write(tmp_path, "slow.yaml", DISTRICT.format(capacity=10) + """\
    flexible_loads:
      - {id: dye, energy_kwh: 120, power_kw: 60, earliest_start: "08:00", deadline: "12:00",
         power_levels_kw: [20]}
""")
    with pytest.raises(ConfigError, match=r"power_levels_kw\[0\]: at 20 kW energy_kwh cannot be delivered"):
        load_district(slow)


def test_a_window_may_end_at_24_00_and_no_later(tmp_path: Path) -> None:
    load = """\
    flexible_loads:
      - {{id: dye, energy_kwh: 60, power_kw: 60, earliest_start: "23:00", deadline: "{end}"}}
"""
    ok = _write(tmp_path, "midnight.yaml", DISTRICT.format(capacity=10) + load.format(end="24:00"))
    assert load_district(ok).sites[0].flexible_loads[0].deadline == "24:00"
    late = _write(tmp_path, "late.yaml", DISTRICT.format(capacity=10) + load.format(end="24:15"))
    with pytest.raises(ConfigError, match=r"deadline: .*24:00 for the end of the day"):
        load_district(late)


def test_duplicate_key_and_yaml_syntax(tmp_path: Path) -> None:
    dup = _write(tmp_path, "dup.yaml", "district: a\ndistrict: b\nsites: []\n")
    with pytest.raises(ConfigError, match=r"dup.yaml:2: district: duplicate key"):
        load_district(dup)
    broken = _write(tmp_path, "broken.yaml", "district: a\nsites: [\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: <document>: invalid YAML"):
        load_district(broken)


def test_gateway_references(tmp_path: Path) -> None:
    path = _write(tmp_path, "gw.yaml", """\
gateway: gw1
district: d
site: s
devices:
  - name: meter
    profile: eastron_sdm630
    transport: {type: rtu, bus: missing}
assets:
  - name: bat
    device: nowhere
    point: battery_power_setpoint_w
    min_value: -10
    max_value: 10
    fallback: {value: 50}
""")
    with pytest.raises(ConfigError) as info:
        load_gateway_config(path)
    message = str(info.value)
    assert f"{path}:7: devices[0].transport.bus: unknown serial bus 'missing'" in message
    assert f"{path}:10: assets[0].device: unknown device 'nowhere'" in message
    assert f"{path}:14: assets[0].fallback.value: must lie within" in message


def _nzd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nzd", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_config_check() -> None:
    ok = _nzd("config", "check", *map(str, sorted(EXAMPLES.glob("*.yaml"))))
    assert ok.returncode == 0, ok.stderr
    assert "ok (district)" in ok.stdout


def test_cli_config_check_fails_with_location(tmp_path: Path) -> None:
    bad_type = _write(tmp_path, "bad-type.yaml", DISTRICT.format(capacity="lots"))
    unknown = _write(tmp_path, "unknown.yaml", DISTRICT.format(capacity=1) + "    colour: red\n")
    result = _nzd("config", "check", str(bad_type), str(unknown))
    assert result.returncode == 1
    assert f"{bad_type}:7: sites[0].batteries[0].capacity_kwh:" in result.stderr
    assert f"{unknown}:10: sites[0].colour: unknown field" in result.stderr


def test_cli_config_check_refuses_an_unknown_time_zone(tmp_path: Path) -> None:
    text = (EXAMPLES / "district.yaml").read_text()
    assert "timezone: Europe/Rome" in text
    roma = _write(tmp_path, "roma.yaml", text.replace("timezone: Europe/Rome", "timezone: Europe/Roma"))
    line = 1 + roma.read_text().splitlines().index("timezone: Europe/Roma")
    result = _nzd("config", "check", str(roma))
    assert result.returncode == 1
    assert f"{roma}:{line}: timezone: unknown time zone 'Europe/Roma'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_schema() -> None:
    import json

    for kind in ("gateway", "district"):
        result = _nzd("config", "schema", kind)
        assert result.returncode == 0, result.stderr
        assert "properties" in json.loads(result.stdout)
    assert _nzd("config", "schema", "toaster").returncode == 2


def test_cli_checks_profiles_and_asset_limits_of_a_gateway_config(tmp_path: Path) -> None:
    text = (EXAMPLES / "gateway-depuratore.yaml").read_text()
    typo = _write(tmp_path, "typo.yaml", text.replace("profile: victron_ess", "profile: victron_esss"))
    too_big = _write(tmp_path, "too-big.yaml", text.replace("max_value: 30000", "max_value: 50000"))
    result = _nzd("config", "check", str(typo), str(too_big))
    assert result.returncode == 1
    assert f"{typo}:27: devices[1].profile:" in result.stderr
    assert "no such profile" in result.stderr
    assert f"{too_big}:41: assets[0].max_value: 50000 is outside what the device accepts" in result.stderr


def test_poll_offset_must_lie_inside_the_interval(tmp_path: Path) -> None:
    path = _write(tmp_path, "gw.yaml", """\
gateway: gw1
district: d
site: s
devices:
  - name: meter
    profile: eastron_sdm630
    transport: {type: tcp, host: 127.0.0.1}
    poll_interval_s: 1
    poll_offset_s: 1.5
""")
    with pytest.raises(ConfigError, match=rf"{path}:9: devices\[0\].poll_offset_s: must be less than"):
        load_gateway_config(path)


def test_cli_config_check_knows_scenario_files(tmp_path: Path) -> None:
    for name in ("scenario.yaml", "scenario-district.yaml"):
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    typo = tmp_path / "scenario.yaml"
    typo.write_text(typo.read_text().replace("representative_days: 12", "representative_dayz: 12"))
    line = 1 + typo.read_text().splitlines().index("representative_dayz: 12")
    result = _nzd("config", "check", str(typo))
    assert result.returncode == 1
    assert f"{typo}:{line}: representative_dayz: unknown field" in result.stderr
    assert "ok (scenario)" in _nzd("config", "check", str(EXAMPLES / "scenario.yaml")).stdout


_INVENTORY = """\
inventory:
  electricity_t_co2_per_mwh: {2026: 0.25}
  sites:
    tintoria-rossi:
      fuels:
        - {year: 2026, carrier: natural_gas, mwh: 500}
    lanificio-bianchi: {sector: industry_ets}
"""


def _with_inventory(tmp_path: Path, inventory: str) -> Path:
    text = (EXAMPLES / "district.yaml").read_text()
    assert "\nsites:\n" in text
    return _write(tmp_path, "district.yaml", text.replace("\nsites:\n", "\n" + inventory + "sites:\n", 1))


def _line(path: Path, fragment: str) -> int:
    return 1 + next(i for i, text in enumerate(path.read_text().splitlines()) if fragment in text)


def test_the_inventory_section_loads_and_names_the_firms_it_describes(tmp_path: Path) -> None:
    district = load_district(_with_inventory(tmp_path, _INVENTORY))
    assert district.inventory.site("tintoria-rossi").fuels[0].mwh == 500
    assert district.inventory.site("lanificio-bianchi").sector == "industry_ets"


def test_an_inventory_site_that_is_not_in_the_registry_is_refused_with_its_line(tmp_path: Path) -> None:
    # A typo in the id would silently drop the firm's 500 MWh of gas and its sector.
    path = _with_inventory(tmp_path, _INVENTORY.replace("tintoria-rossi:", "tintoria-rosi:")
                           .replace("lanificio-bianchi:", "lanificio-bianco:"))
    with pytest.raises(ConfigError) as info:
        load_district(path)
    assert info.value.errors == [
        f"{path}:{_line(path, 'tintoria-rosi:')}: inventory.sites.tintoria-rosi: unknown site "
        "'tintoria-rosi' (the registry's sites: tintoria-rossi, lanificio-bianchi, logistica-prato, "
        "depuratore)",
        f"{path}:{_line(path, 'lanificio-bianco:')}: inventory.sites.lanificio-bianco: unknown site "
        "'lanificio-bianco' (the registry's sites: tintoria-rossi, lanificio-bianchi, logistica-prato, "
        "depuratore)"]
    # The operator's check names it the same way, without a traceback.
    result = _nzd("config", "check", str(path))
    assert result.returncode == 1
    line = _line(path, "tintoria-rosi:")
    assert f"{path}:{line}: inventory.sites.tintoria-rosi: unknown site" in result.stderr
    assert "Traceback" not in result.stderr


def test_inventory_fuel_figures_are_fuels_given_once_a_year(tmp_path: Path) -> None:
    path = _with_inventory(tmp_path, _INVENTORY.replace(
        "        - {year: 2026, carrier: natural_gas, mwh: 500}\n",
        "        - {year: 2026, carrier: natural_gas, mwh: 500}\n"
        "        - {year: 2026, carrier: natural_gas, mwh: 300}\n"
        "        - {year: 2026, carrier: grid_electricity, mwh: 90}\n"
        "        - {year: 2026, carrier: natural_gass, mwh: 1}\n"))
    with pytest.raises(ConfigError) as info:
        load_district(path)
    assert info.value.errors[0].startswith(f"{path}:{_line(path, 'natural_gass')}: "
                                           "inventory.sites.tintoria-rossi.fuels[3].carrier: input should be")
    # the pydantic error stops the load before the cross-checks; without it they report both:
    path = _write(tmp_path, "district.yaml", path.read_text().replace("natural_gass", "lpg"))
    with pytest.raises(ConfigError) as info:
        load_district(path)
    assert info.value.errors == [
        f"{path}:{_line(path, 'mwh: 300')}: inventory.sites.tintoria-rossi.fuels[1]: a second natural_gas "
        "figure for 2026: give the year's total once",
        f"{path}:{_line(path, 'grid_electricity')}: inventory.sites.tintoria-rossi.fuels[2].carrier: "
        "grid_electricity comes from the meters; a yearly figure is for a fuel (natural_gas, gas_oil, lpg)"]
