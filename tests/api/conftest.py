"""A real API server (uvicorn in a thread) over the real InfluxDB store and Mosquitto.

Users, passwords and tokens here are generated for the tests (demo only).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from pydantic import SecretStr

from api import create_app
from api.auth import hash_secret, new_api_token
from api.server import listen_socket
from api.settings import ApiSettings
from nzd.messages import DeviceKind
from nzd.settings import ServiceSettings
from nzd.store import Event, EventKind, Reading, open_store
from tests.harness import InfluxServer, MosquittoServer, free_port

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "firmware_configs" / "examples" / "district.yaml"
DISTRICT = "prato-est"
SITE_A = "tintoria-rossi"
SITE_B = "logistica-prato"
SITES = ["tintoria-rossi", "lanificio-bianchi", "logistica-prato", "depuratore"]


@dataclass
class User:
    name: str
    password: str
    token: str


@dataclass
class ApiServer:
    url: str
    settings: ApiSettings
    operator: User
    manager_a: User
    """Site manager of SITE_A only."""
    public_token: str
    """A token of a user with the public role."""
    influx: InfluxServer
    mosquitto: MosquittoServer
    authority: User | None = None
    """The municipality (role authority): district figures and targets only."""

    def client(self, user: User | None = None, *, token: str | None = None) -> httpx.Client:
        tok = token or (user.token if user else None)
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def store_settings(server: ApiServer) -> ServiceSettings:
    return ServiceSettings(influx_url=server.settings.influx_url,
                           influx_database=server.settings.influx_database)


async def _write(settings: ServiceSettings, readings: list[Reading], events: list[Event]) -> None:
    store = open_store(settings)
    await store.open()
    try:
        if readings:
            await store.write(readings)
        if events:
            await store.write_events(events)
    finally:
        await store.close()


def write_unseen(server: ApiServer, readings: list[Reading] = (),  # type: ignore[assignment]
                 events: list[Event] = ()) -> None:  # type: ignore[assignment]
    """Straight into the store: the API's live subscription does not see it."""
    run(_write(store_settings(server), list(readings), list(events)))


def write(server: ApiServer, readings: list[Reading] = (), events: list[Event] = ()) -> None:  # type: ignore[assignment]
    """Into the store, then the API is told to compute that period's figures again, as an
    operator does after an import (``POST /api/v1/ops/recompute``)."""
    write_unseen(server, readings, events)
    if readings:
        lo, hi = min(r.ts_ms for r in readings), max(r.ts_ms for r in readings) + 1
        iso = [datetime.fromtimestamp(t / 1000, UTC).isoformat() for t in (lo, hi)]
        with server.client(server.operator) as c:
            r = c.post("/api/v1/ops/recompute", params={"from": iso[0], "to": iso[1]})
        assert r.status_code == 200, r.text


def _seed(settings: ServiceSettings) -> None:
    """A day of quarter-hour readings for every site's main meter, PV and battery, a plan, an alert."""
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - 86_400_000
    readings: list[Reading] = []
    for i, site in enumerate(SITES):
        for step in range(97):
            ts = start_ms + step * 900_000
            readings.append(Reading(DISTRICT, site, "main-meter", DeviceKind.ELECTRICITY_METER, ts, step,
                                    {"active_power_w": 20_000.0 + 1000 * i + 15_000 * math.sin(step / 15.4),
                                     "energy_import_wh": 1e6 + step * 5000.0,
                                     # only the car-park PV of Logistica feeds in
                                     "energy_export_wh": 2e5 + step * (3000.0 if site == SITE_B else 0.0)}))
            readings.append(Reading(DISTRICT, site, "pv-inverter", DeviceKind.PV_INVERTER, ts, step,
                                    {"pv_power_w": 30_000.0, "pv_energy_wh": 5e5 + step * 2000.0}))
    for step in range(97):  # Rossi's water meters: 8 m3/h public, 12 m3/h recycled, 16 m3/h discharged
        ts = start_ms + step * 900_000
        for device, per_step in (("intake-public", 2.0), ("intake-recycled", 3.0), ("discharge", 4.0)):
            readings.append(Reading(DISTRICT, SITE_A, device, DeviceKind.WATER_FLOW_METER, ts, step,
                                    {"water_volume_m3": 1000.0 + per_step * step,
                                     "water_flow_m3h": per_step * 4}))
    # A spare meter silent for two hours, longer than the API's default lookback: listed as old.
    readings.append(Reading(DISTRICT, SITE_A, "spare-meter", DeviceKind.ELECTRICITY_METER,
                            now_ms - 7_200_000, 3, {"active_power_w": 0.0}))
    readings.append(Reading(DISTRICT, "depuratore", "battery-inverter", DeviceKind.BATTERY, now_ms - 1000, 1,
                            {"battery_power_w": -10_000.0, "battery_soc_pct": 55.0}))
    plan_doc = {"plan_id": "plan-test", "status": "optimal", "start_ms": now_ms - 60_000, "step_minutes": 15,
                "shared_energy_kwh": [10.0] * 24,
                "sites": {s: {"grid_import_kw": [20.0] * 96, "grid_export_kw": [0.0] * 96} for s in SITES},
                "assets": [{"site": "depuratore", "asset_id": "community-battery",
                            "asset": "community-battery", "kind": "battery", "power_kw": [-10.0] * 96}],
                "targets": [{"site": "depuratore", "asset": "community-battery",
                             "quantity": "battery_power_setpoint_w", "value": -10000.0}],
                "excluded": [],
                "limit_breaches": [{"site": "depuratore", "limit_kw": 200.0, "steps": [3, 4],
                                    "kw_over": [12.5, 8.0], "max_kw_over": 12.5}]}
    alert_doc = {"id": "leak-rossi-1", "site": SITE_A, "kind": "night_flow_leak", "severity": "warning",
                 "ts": now_ms - 3_600_000, "message": "night flow 2.1 m3/h above baseline 0.4 m3/h",
                 "device": "intake-public", "value": 2.1, "threshold": 0.4, "active": True}
    events = [Event(EventKind.PLAN, DISTRICT, "*", now_ms - 60_000, "plan-test", plan_doc),
              Event(EventKind.ALERT, DISTRICT, SITE_A, now_ms - 3_600_000, "leak-rossi-1", alert_doc),
              Event(EventKind.ALERT, DISTRICT, SITE_B, now_ms - 3_600_000, "leak-logistica-1",
                    {**alert_doc, "id": "leak-logistica-1", "site": SITE_B})]
    run(_write(settings, readings, events))


def _users_file(path: Path) -> tuple[User, User, str, User]:
    op_token, op_hash = new_api_token("ops")
    a_token, a_hash = new_api_token("rossi")
    pub_token, pub_hash = new_api_token("comune")
    auth_token, auth_hash = new_api_token("municipio")
    authority = User("municipio", "demo-" + secrets.token_hex(6), auth_token)
    operator = User("operator", "demo-" + secrets.token_hex(6), op_token)
    manager = User("rossi", "demo-" + secrets.token_hex(6), a_token)
    doc = {"users": [
        {"username": "operator", "role": "operator", "password_hash": hash_secret(operator.password),
         "tokens": [{"id": "ops", "hash": op_hash}]},
        {"username": "rossi", "role": "site_manager", "sites": [SITE_A],
         "password_hash": hash_secret(manager.password), "tokens": [{"id": "rossi", "hash": a_hash}]},
        {"username": "comune", "role": "public", "tokens": [{"id": "comune", "hash": pub_hash}]},
        {"username": "municipio", "role": "authority", "password_hash": hash_secret(authority.password),
         "tokens": [{"id": "municipio", "hash": auth_hash}]},
    ]}
    path.write_text(yaml.safe_dump(doc))
    return operator, manager, pub_token, authority


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test thread is not the main thread
        pass


def serve(settings: ApiSettings) -> tuple[_Server, threading.Thread, str]:
    """Run the app in uvicorn on a thread; returns once it accepts connections."""
    port = free_port()
    sock = listen_socket("127.0.0.1", port, send_buffer_bytes=32_768)
    server = _Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                    lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def api_server(influxdb: InfluxServer, mosquitto: MosquittoServer,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    users_path = tmp_path_factory.mktemp("api") / "users.yaml"
    operator, manager, pub_token, authority = _users_file(users_path)
    settings = ApiSettings(
        influx_url=influxdb.url, influx_database="api_tests", mqtt_url=mosquitto.url,
        district_file=DISTRICT_FILE, users_file=users_path,
        jwt_secret=SecretStr("demo-only-" + secrets.token_hex(16)), live_queue_size=64, log_json=True,
    )
    _seed(ServiceSettings(influx_url=influxdb.url, influx_database="api_tests"))
    server, thread, url = serve(settings)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).json().get("mqtt"):
                break
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.05)
    else:
        raise RuntimeError("the API server did not become healthy")
    yield ApiServer(url, settings, operator, manager, pub_token, influxdb, mosquitto, authority)
    server.should_exit = True
    thread.join(timeout=10)
