"""Simulator configs are validated like every nzd config: file, line and field in each error."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_configs import EXAMPLES_DIR
from gateway.simulator import load_simulator_config
from nzd.errors import ConfigError


@pytest.mark.parametrize("name", ["simulator.yaml", "simulator-rtu.yaml"])
def test_shipped_examples_load(name: str) -> None:
    cfg = load_simulator_config(EXAMPLES_DIR / name)
    assert cfg.devices


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sim.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_simulator_config(path)
    return [e.replace(f"{path}:", "") for e in info.value.errors]


def test_mistakes_are_named_with_their_line(tmp_path: Path) -> None:
    errors = _errors(tmp_path, """\
simulator: {speed: -1}
devices:
  - name: m1
    profile: eastron_sdm630
    transport: {type: tcp, host: 127.0.0.1, port: 5020}
    faults: {nan: [frequency_hz, not_a_point], exception_code: 12}
""")
    assert any(e.startswith("1: simulator.speed:") for e in errors)
    assert any(e.startswith("6: devices[0].faults.exception_code:") for e in errors)


def test_cross_references_are_checked(tmp_path: Path) -> None:
    errors = _errors(tmp_path, """\
simulator: {}
devices:
  - name: m1
    profile: eastron_sdm630
    transport: {type: tcp, host: 127.0.0.1, port: 5020}
    faults: {nan: [not_a_point]}
    load: {profile: x9, annual_kwh: 1000}
  - name: m2
    profile: eastron_sdm120
    transport: {type: tcp, host: 127.0.0.1, port: 5020}
  - name: m3
    profile: eastron_sdm630
    transport: {type: rtu, bus: nowhere}
    battery: {capacity_kwh: 10, max_power_kw: 5}
  - name: m4
    profile: no_such_profile
    transport: {type: tcp, host: 127.0.0.1, port: 5021}
""")
    assert "6: devices[0].faults.nan[0]: the profile has no point 'not_a_point'" in errors
    assert any(e.startswith("7: devices[0].load.profile: unknown load profile") for e in errors)
    assert "8: devices[1].unit_id: unit id 1 is already served on 5020" in errors
    assert "13: devices[2].transport.bus: unknown serial bus 'nowhere'" in errors
    assert any(e.startswith("14: devices[2].battery: the profile has no battery_power_setpoint_w")
               for e in errors)
    assert any(e.startswith("16: devices[3].profile:") and "no such profile" in e for e in errors)


def test_a_fault_window_needs_time_zones_and_an_end_after_its_start(tmp_path: Path) -> None:
    errors = _errors(tmp_path, """\
simulator: {}
devices:
  - name: m1
    profile: eastron_sdm630
    transport: {type: tcp, host: 127.0.0.1, port: 5020}
    faults: {timeout: 1.0, start: 2026-06-17T10:00:00+02:00, end: 2026-06-17T09:00:00+02:00}
  - name: m2
    profile: eastron_sdm630
    transport: {type: tcp, host: 127.0.0.1, port: 5021}
    faults:
      timeout: 1.0
      start: 2026-06-17T10:00:00
""")
    assert errors == [
        "6: devices[0].faults.end: must be after start (2026-06-17T10:00:00+02:00)",
        "12: devices[1].faults.start: must carry a timezone (e.g. 2026-06-17T09:30:00+02:00)",
    ]
