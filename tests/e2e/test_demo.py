"""Acceptance of ``nzd demo`` (issue 8): the whole district on one machine, started by one command.

``nzd demo`` runs as a user runs it, a process of its own; the test reads what it prints, talks
to its API and dashboard like a person would, and looks at the broker and InfluxDB from outside.
Stopping is checked the hard way: after SIGINT (Ctrl-C) no process the demo started is left,
found by the pids it logged and by scanning /proc for their process groups.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.harness import InfluxServer, MosquittoServer, free_port, free_ports

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SITES = 8
BATTERY_SITE = "comunita-energetica"
SPEED = 120.0
"""Simulated seconds per real second: one simulated hour is 30 s."""
SIMULATED_HOUR_S = 3600.0 / SPEED


class Demo:
    """A running ``nzd demo``: its printed lines, URL, credentials and the pids it logged."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nzd", "demo", "--port", str(self.port), "--dir", str(workdir), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_ready(self, *, timeout_s: float = 120.0) -> None:
        """Until the banner's last line; the bound only ends a hung test (the demo gives up at 60 s)."""
        wait_for(lambda: "Ctrl-C stops everything." in self.output(), what="the demo's banner",
                 demo=self, timeout_s=timeout_s)

    def password(self, user: str) -> str:
        for line in self.output().splitlines():
            if f"user '{user}'" in line:
                return line.split("password '")[1].rstrip("'")
        raise AssertionError(f"no password for {user!r} in:\n{self.output()}")

    def pids(self) -> list[int]:
        return [int(line.split()[0]) for line in (self.workdir / "pids").read_text().splitlines() if line]

    def interrupt(self, *, timeout_s: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout_s)

    def logs(self) -> str:
        out = []
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()
            out.append(f"--- {log.name} ---\n" + "\n".join(
                t for t in text[-15:] if "HTTP Request" not in t))
        return "\n".join(out)


def wait_for(check: Callable[[], Any], *, what: str, demo: Demo, timeout_s: float = 90.0) -> Any:
    """Poll ``check`` until it returns something truthy; a demo that exited fails at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if result := check():
                return result
        if demo.proc.poll() is not None:
            raise AssertionError(f"the demo exited ({demo.proc.returncode}) while waiting for {what}:\n"
                                 f"{demo.output()}\n{demo.logs()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}:\n{demo.output()}\n{demo.logs()}")
        time.sleep(0.5)


def running_in_groups(groups: list[int]) -> list[str]:
    """Processes (not zombies) whose pid or process group is one the demo logged."""
    found = []
    wanted = set(groups)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            if state != "Z" and (int(entry.name) in wanted or int(pgrp) in wanted):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                found.append(f"{entry.name}: {cmdline!r}")
    return found


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


@pytest.fixture
def demo_factory(tmp_path: Path) -> Iterator[Callable[..., Demo]]:
    started: list[Demo] = []

    def start(*args: str) -> Demo:
        demo = Demo(tmp_path / f"demo-{len(started)}", *args)
        started.append(demo)
        return demo

    yield start
    for demo in started:  # a failed test must not leave a district running
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.proc.wait(timeout=10)
        with contextlib.suppress(OSError):
            for pid in demo.pids():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def _assert_stopped_cleanly(demo: Demo, pids: list[int]) -> None:
    code = demo.interrupt()
    assert code == 0, f"the demo exited with {code}:\n{demo.output()}\n{demo.logs()}"
    assert "nothing left running" in demo.output()
    assert running_in_groups(pids) == []
    assert children_of(demo.proc.pid) == []


@pytest.mark.timeout(150)
def test_demo_with_nothing_installed_serves_the_district_and_ctrl_c_stops_everything(
        demo_factory: Callable[..., Demo]) -> None:
    demo = demo_factory("--speed", "60")
    demo.wait_ready()
    assert f"dashboard   {demo.url}/" in demo.output()
    assert "(embedded amqtt)" in demo.output()
    pids = demo.pids()
    assert len(pids) == SITES + 4  # simulator, gateways, ingest, coordinator, API
    assert len(children_of(demo.proc.pid)) == len(pids)

    index = httpx.get(f"{demo.url}/", timeout=10)
    assert index.status_code == 200 and "dashboard" in index.text
    district = httpx.get(f"{demo.url}/api/v1/district", timeout=10).json()
    assert (district["district"], district["site_count"]) == ("prato-demo", SITES)
    # Readings crossed the embedded broker and reached the embedded SQLite store through ingest.
    token = _login(demo, "operator")
    wait_for(lambda: {r["site"] for s in _get(demo, token, "/api/v1/sites")
                      for r in _get(demo, token, f"/api/v1/sites/{s['id']}/latest")} == set(
                          s["id"] for s in _get(demo, token, "/api/v1/sites")),
             what="stored readings of every firm", demo=demo)
    # The public sees the district's totals, through the API and on the dashboard (once enough
    # firms' meters have been read: each gateway reads its devices at staggered offsets). Never one
    # firm's figure: the community battery is the district's only one, so while the plan runs it
    # neither its power nor the load (grid + PV + battery, which would give it back) is shown.
    flows = wait_for(lambda: (f := httpx.get(f"{demo.url}/api/v1/district/flows", timeout=10).json())
                     ["grid_w"] is not None and f, what="the district's grid exchange from several firms",
                     demo=demo)
    assert flows["grid_w"] > 0  # early morning: the district imports
    assert flows["battery_w"] in (None, 0.0)
    assert flows["load_w"] is None or flows["load_w"] > 0
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(demo.url + "/")
        expect(page.locator("#district-name")).to_contain_text("Prato")
        expect(page.locator("#live-state")).to_have_text("● live")
        expect(page.locator("#flow-district-grid")).to_contain_text("kW")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo-embedded-public.png"), full_page=True)

    _assert_stopped_cleanly(demo, pids)


def _login(demo: Demo, user: str) -> str:
    r = httpx.post(f"{demo.url}/api/v1/auth/login", json={"username": user, "password": demo.password(user)},
                   timeout=10)
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


def _get(demo: Demo, token: str, path: str) -> Any:
    r = httpx.get(f"{demo.url}{path}", headers={"authorization": f"Bearer {token}"}, timeout=20)
    r.raise_for_status()
    return r.json()


def _influx_sites(influxdb: InfluxServer, database: str) -> set[str]:
    result = influxdb.query('SELECT count("active_power_w") FROM "electricity_meter" '
                            "WHERE \"district\" = 'prato-demo' GROUP BY \"site\"", db=database)
    series = result["results"][0].get("series", [])  # type: ignore[index]
    return {s["tags"]["site"] for s in series if s["values"][0][1] > 0}


def _applied_battery_setpoint(demo: Demo, token: str) -> dict[str, Any] | None:
    acks = _get(demo, token, f"/api/v1/sites/{BATTERY_SITE}/acks")
    applied = {a["document"].get("setpoint_id") for a in acks if a["document"].get("result") == "applied"}
    sent = _get(demo, token, f"/api/v1/sites/{BATTERY_SITE}/setpoints")
    return next((s["document"] for s in sent if s["document"].get("asset") == "battery"
                 and s["document"].get("id") in applied), None)


def _battery_follows(influxdb: InfluxServer, database: str, setpoint: dict[str, Any]) -> bool:
    # Readings after the setpoint was applied show it in the battery's own setpoint register.
    result = influxdb.query(
        'SELECT "battery_power_setpoint_w" FROM "battery" WHERE "site" = \'' + BATTERY_SITE
        + f"' AND time > {setpoint['issued_at']}ms", db=database)
    series = result["results"][0].get("series", [])  # type: ignore[index]
    values = [row[1] for s in series for row in s["values"]]
    return any(v is not None and abs(v - setpoint["value"]) <= 1.0 for v in values)


@pytest.mark.timeout(240)
def test_demo_on_mosquitto_and_influxdb_runs_a_simulated_hour(
        demo_factory: Callable[..., Demo], mosquitto: MosquittoServer, influxdb: InfluxServer) -> None:
    database = f"demo_{secrets.token_hex(4)}"
    # Late morning, simulated: the PV of one firm covers another's load, so energy is shared.
    demo = demo_factory("--mqtt", mosquitto.url, "--influx", influxdb.url, "--influx-database", database,
                        "--speed", f"{SPEED:g}", "--start", "10:30", "--poll-interval", "1")
    demo.wait_ready()
    ready_at = time.monotonic()
    pids = demo.pids()
    assert "(embedded amqtt)" not in demo.output()
    token = _login(demo, "operator")

    # Readings of every firm land in InfluxDB.
    sites = {s["id"] for s in _get(demo, token, "/api/v1/sites")}
    assert len(sites) == SITES
    wait_for(lambda: _influx_sites(influxdb, database) == sites, what="readings of every firm in InfluxDB",
             demo=demo)
    # A plan is made for the whole district (a solved one, not the safe "error" plan).
    plans = wait_for(lambda: _get(demo, token, "/api/v1/plans"), what="a plan", demo=demo)
    document = plans[0]["document"]
    assert document["status"] in ("optimal", "time_limit", "lp_fallback"), (
        f"{document.get('status')}: {document.get('message') or document.get('reason')}\n{demo.logs()}")
    # Its setpoint reaches the shared battery: applied, and the simulated battery's register shows it.
    setpoint = wait_for(lambda: _applied_battery_setpoint(demo, token), what="an applied battery setpoint",
                        demo=demo)
    wait_for(lambda: _battery_follows(influxdb, database, setpoint),
             what=f"the battery register at {setpoint['value']} W", demo=demo)

    # Run one simulated hour in all before looking at the day's KPIs.
    time.sleep(max(0.0, SIMULATED_HOUR_S - (time.monotonic() - ready_at)))
    today = wait_for(lambda: [r for r in _get(demo, token, "/api/v1/district/kpis?period=day")
                              if (r.get("consumption_kwh") or 0) > 0],
                     what="district KPIs of today", demo=demo)
    assert today[-1]["import_kwh"] > 0
    assert today[-1]["pv_kwh"] > 0
    site = _get(demo, token, "/api/v1/sites/tintoria-rossi/kpis?period=day")
    assert site[-1]["consumption_kwh"] > 0

    _check_dashboard(demo)
    _assert_stopped_cleanly(demo, pids)


@contextlib.contextmanager
def _browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _check_dashboard(demo: Demo) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(demo.url + "/")
        page.click("#login-button")
        page.fill("#login-username", "operator")
        page.fill("#login-password", demo.password("operator"))
        page.click("#login-submit")
        expect(page.locator("#user-label")).to_contain_text("operator")
        expect(page.locator("#live-state")).to_have_text("● live")
        expect(page.locator("#site-cards > .card")).to_have_count(SITES)
        expect(page.locator("#site-tintoria-rossi h3")).to_have_text("Tintoria Rossi")
        for tile in ("#tile-shared", "#tile-selfsuff"):
            expect(page.locator(f"{tile} .value")).not_to_have_text("–")
        expect(page.locator("#tiles")).to_contain_text("Grid import today")
        page.screenshot(path=str(ARTIFACTS / "demo-dashboard.png"), full_page=True)
        page.click("#tabs [data-view=plan]")
        page.select_option("#plan-site", BATTERY_SITE)
        expect(page.locator("#plan-targets")).to_contain_text("battery")
        page.screenshot(path=str(ARTIFACTS / "demo-plan.png"), full_page=True)
        assert errors == []


def test_demo_refuses_a_taken_port_and_an_unreachable_broker_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        api_port, mqtt_port = free_ports(2)
        for args, message in (
            (["--port", str(port)], f"port {port} on 127.0.0.1 is already in use"),
            (["--port", str(api_port), "--mqtt", f"mqtt://127.0.0.1:{mqtt_port}"],
             "cannot reach the MQTT broker"),
        ):
            run = subprocess.run([sys.executable, "-m", "nzd", "demo", "--dir", str(tmp_path / "d"), *args],
                                 capture_output=True, text=True, timeout=60)
            assert run.returncode == 1
            assert message in run.stderr
            assert not (tmp_path / "d").exists()  # nothing written, nothing started
