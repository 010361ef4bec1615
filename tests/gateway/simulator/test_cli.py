"""``nzd simulate CONFIG`` serves the devices of the config until interrupted."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from tests.gateway.simulator.support import mbpoll
from tests.harness import free_port, wait_for_port


def test_nzd_simulate_serves_a_config_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "sim.yaml"
    config.write_text(f"""\
simulator: {{speed: 0, start: "2026-06-03T12:00:00+02:00"}}
devices:
  - name: meter
    profile: eastron_sdm630
    transport: {{type: tcp, host: 127.0.0.1, port: {port}}}
    unit_id: 4
    values: {{frequency_hz: 49.5}}
""")
    proc = subprocess.Popen([sys.executable, "-m", "nzd", "simulate", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, timeout_s=60)
        read = asyncio.run(mbpoll(["-m", "tcp", "-p", str(port), "-a", "4", "-t", "3:float", "-B", "-r", "70",
                             "-c", "1", "127.0.0.1"]))
        assert float(read[70]) == 49.5
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "meter: Eastron SDM630, unit 4" in out


def test_a_bad_config_exits_with_its_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("simulator: {}\ndevices: []\n")
    proc = subprocess.run([sys.executable, "-m", "nzd", "simulate", str(config)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{config}:2: devices:" in proc.stderr


def test_sigterm_stops_the_simulator_and_its_pseudo_terminals(tmp_path: Path) -> None:
    config = tmp_path / "rtu.yaml"
    config.write_text("""\
simulator: {speed: 0}
buses: [{name: bus1, port: auto, baudrate: 19200}]
devices:
  - {name: office, profile: eastron_sdm120, transport: {type: rtu, bus: bus1}, unit_id: 7}
""")
    proc = subprocess.Popen([sys.executable, "-m", "nzd", "simulate", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    client_port = ""
    try:
        for line in proc.stdout:
            if "point the gateway's bus port at" in line:
                client_port = line.rsplit(" ", 1)[-1].strip()
            if "Ctrl-C stops" in line:
                break
        assert client_port and Path(client_port).exists()
        read = asyncio.run(mbpoll(["-m", "rtu", "-b", "19200", "-P", "none", "-a", "7", "-t", "3:float", "-B",
                                   "-r", "0", "-c", "1", client_port]))
        assert 200 < float(read[0]) < 260  # volts
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "stopped" in out
    assert not Path(client_port).exists()  # socat is gone with its pseudo-terminals


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "sim.yaml"
        config.write_text(f"simulator: {{}}\ndevices:\n  - {{name: m, profile: eastron_sdm630, "
                          f"transport: {{type: tcp, host: 127.0.0.1, port: {port}}}}}\n")
        proc = subprocess.run([sys.executable, "-m", "nzd", "simulate", str(config)], capture_output=True,
                              text=True, timeout=60)
    assert proc.returncode == 1
    assert "cannot start the simulator" in proc.stderr
