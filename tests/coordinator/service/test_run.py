"""``nzd coordinator run`` refuses bad settings and bad district files with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


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


def test_sigterm_stops_a_running_coordinator_cleanly(mosquitto, tmp_path):
    import signal

    import httpx

    from tests.harness import free_port

    district = tmp_path / "district.yaml"
    district.write_text("district: run-test\nsites:\n  - id: a\n    name: A\n    batteries:\n"
                        "      - {id: bat, capacity_kwh: 10, charge_kw: 5, discharge_kw: 5}\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nzd", "coordinator", "run", "--district", str(district), "--interval", "3600",
         "--metrics-port", str(port)],
        env={**os.environ, "NZD_MQTT_URL": mosquitto.url, "NZD_SQLITE_PATH": str(tmp_path / "s.sqlite"),
             "NZD_MQTT_CLIENT_ID": "run-test", "NZD_LOG_JSON": "true"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        status = None
        for _ in range(600):  # a bounded wait for the first plan, not a speed assertion
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                if status.status_code == 200 and status.json()["last_plan"]:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        assert status is not None and status.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    # Logs are JSON lines: the last says the coordinator stopped.
    messages = [json.loads(line)["msg"] for line in out.splitlines() if line.startswith("{")]
    assert "coordinator stopped" in messages
