"""``nzd coordinator run`` refuses bad settings and bad district files with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nzd", "coordinator", "run", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_a_bad_district_file_names_file_line_and_field(tmp_path):
    district = tmp_path / "district.yaml"
    district.write_text("district: x\nsites:\n  - id: a\n    name: A\n    grid_import_limit_kw: -5\n")
    result = _run("--district", str(district), env={"NZD_MQTT_URL": "mqtt://127.0.0.1:1"})
    assert result.returncode == 2
    assert f"{district}:5: sites[0].grid_import_limit_kw" in result.stderr


def test_bad_settings_are_refused(tmp_path):
    result = _run(env={"NZD_VALIDITY_INTERVALS": "0.5"})
    assert result.returncode == 2
    assert "validity_intervals" in result.stderr
