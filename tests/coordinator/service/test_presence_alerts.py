"""Offline alarms end to end: a real gateway process and pymodbus servers, the real Mosquitto, the
coordinator service with its SQLite store, and the API listing the alerts to each user's scope."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from api.auth import hash_secret, new_api_token
from api.settings import ApiSettings
from coordinator.service import CoordinatorService
from nzd.config import DistrictConfig
from nzd.messages import Alert, decode
from nzd.store import EventKind
from nzd.store.sqlite import SqliteStore
from tests.api.conftest import serve
from tests.coordinator.service.helpers import FixedPlanner, eventually, running, settings_for
from tests.gateway.service.support import ModbusThread, Subscriber
from tests.harness import MosquittoServer

ROOT = Path(__file__).resolve().parents[3]
DISTRICT = "prato"
SITE = "tintoria-rossi"
OTHER = "lanificio"
GRACE_S = 2.0
"""gateway_offline_after_s of these tests."""


def district_doc() -> dict[str, Any]:
    return {"district": DISTRICT, "sites": [
        {"id": SITE, "name": "Tintoria Rossi",
         "meters": [{"device": "meter-a", "role": "grid"}, {"device": "meter-b", "role": "load"}]},
        {"id": OTHER, "name": "Lanificio Bianchi", "meters": [{"device": "meter-l", "role": "grid"}]},
    ]}


def gateway_config(tmp_path: Path, *, broker_port: int, port_a: int, port_b: int) -> Path:
    devices = [{"name": name, "profile": "eastron_sdm630",
                "transport": {"type": "tcp", "host": "127.0.0.1", "port": port},
                "poll_interval_s": 1, "timeout_s": 0.5}
               for name, port in (("meter-a", port_a), ("meter-b", port_b))]
    config = {"gateway": "gw-1", "district": DISTRICT, "site": SITE,
              "broker": {"host": "127.0.0.1", "port": broker_port, "keepalive_s": 5},
              "buffer": {"path": str(tmp_path / "buffer.sqlite"), "confirm": False},
              "devices": devices, "assets": []}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass
class Users:
    operator: str
    manager: str
    """Site manager of SITE."""
    other_manager: str
    """Site manager of OTHER only."""
    public: str


def users_file(path: Path) -> Users:
    tokens: dict[str, str] = {}
    entries = []
    for name, role, sites in (("operator", "operator", None), ("rossi", "site_manager", [SITE]),
                              ("bianchi", "site_manager", [OTHER]), ("comune", "public", None)):
        token, digest = new_api_token(name)
        tokens[name] = token
        entry: dict[str, Any] = {"username": name, "role": role,
                                 "password_hash": hash_secret("demo-" + secrets.token_hex(6)),
                                 "tokens": [{"id": name, "hash": digest}]}
        if sites:
            entry["sites"] = sites
        entries.append(entry)
    path.write_text(yaml.safe_dump({"users": entries}))
    return Users(tokens["operator"], tokens["rossi"], tokens["bianchi"], tokens["comune"])


@dataclass
class Rig:
    service: CoordinatorService
    store: SqliteStore
    alerts: Subscriber
    api_url: str
    users: Users
    start_gateway: Callable[[], subprocess.Popen[bytes]]

    def published(self) -> list[Alert]:
        return [decode(p, Alert) for t, p, _ in self.alerts.snapshot() if "/alert/" in t]

    def metric(self, kind: str, change: str) -> float:
        value = self.service.metrics.registry.get_sample_value(
            "nzd_coordinator_presence_alerts_total", {"kind": kind, "change": change})
        return 0.0 if value is None else value

    async def api_alerts(self, token: str, *, active_only: bool = True) -> list[dict[str, Any]]:
        def get() -> list[dict[str, Any]]:
            r = httpx.get(f"{self.api_url}/api/v1/alerts", params={"active_only": active_only},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
            r.raise_for_status()
            return [a["alert"] for a in r.json()]
        return await asyncio.to_thread(get)


@contextlib.asynccontextmanager
async def rig(tmp_path: Path, broker: MosquittoServer, modbus_a: ModbusThread,
              modbus_b: ModbusThread) -> AsyncIterator[Rig]:
    district_path = tmp_path / "district.yaml"
    district_path.write_text(yaml.safe_dump(district_doc()))
    store = SqliteStore(path=tmp_path / "nzd.sqlite")
    await store.open()
    users = users_file(tmp_path / "users.yaml")
    api, api_thread, api_url = serve(ApiSettings(
        sqlite_path=tmp_path / "nzd.sqlite", mqtt_url=broker.url, district_file=district_path,
        users_file=tmp_path / "users.yaml", jwt_secret=SecretStr("demo-only-" + secrets.token_hex(16))))
    settings = settings_for(broker.url, history_days=0, leak_check_interval_s=0, device_silent_polls=3,
                            device_poll_interval_s=3600, gateway_offline_after_s=GRACE_S,
                            presence_check_s=0.2)
    service = CoordinatorService(settings=settings, district=DistrictConfig.model_validate(district_doc()),
                                 planner=FixedPlanner({}), store=store)
    config = gateway_config(tmp_path, broker_port=broker.port, port_a=modbus_a.port, port_b=modbus_b.port)
    log = tmp_path / "gateway.log"
    gateways: list[subprocess.Popen[bytes]] = []

    def start_gateway() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            gw = subprocess.Popen([sys.executable, "-m", "nzd", "gateway", "run", str(config)],
                                  stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        gateways.append(gw)
        return gw

    alerts = Subscriber(port=broker.port, topics=[f"nzd/v1/{DISTRICT}/+/alert/+"],
                        client_id=f"alerts-{secrets.token_hex(4)}")
    try:
        async with running(service):
            yield Rig(service, store, alerts, api_url, users, start_gateway)
    finally:
        for gw in gateways:
            if gw.poll() is None:
                gw.send_signal(signal.SIGTERM)
                try:
                    gw.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    gw.kill()
                    gw.wait(timeout=10)
        alerts.close()
        api.should_exit = True
        api_thread.join(timeout=10)
        await store.close()


async def readings_of_both(r: Rig) -> None:
    def seen() -> bool:
        state = r.service.state
        now_ms = int(time.time() * 1000)
        return all(state.value(site=SITE, device=d, quantity="active_power_w", now_ms=now_ms) is not None
                   for d in ("meter-a", "meter-b"))
    await eventually(seen, timeout_s=30, what="readings of both meters at the coordinator")


async def test_a_killed_gateway_raises_gateway_offline_after_the_grace_and_clears_when_it_reconnects(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory()
    modbus_a, modbus_b = ModbusThread().start(), ModbusThread().start()
    try:
        async with rig(tmp_path, broker, modbus_a, modbus_b) as r:
            gw = r.start_gateway()
            await readings_of_both(r)
            assert r.published() == []
            gw.send_signal(signal.SIGKILL)  # the broker publishes its will
            gw.wait(timeout=10)
            killed = time.monotonic()
            await eventually(lambda: any(a.kind == "gateway_offline" for a in r.published()), timeout_s=30,
                             what="a gateway_offline alert")
            waited_s = time.monotonic() - killed
            assert GRACE_S <= waited_s <= GRACE_S + 5.0  # not before the grace; soon after it
            raised = [a for a in r.published() if a.kind == "gateway_offline"]
            assert len(raised) == 1
            alert = raised[0]
            assert (alert.site, alert.device, alert.severity.value, alert.active) == (
                SITE, "gw-1", "critical", True)
            assert alert.message.startswith("The gateway gw-1 of Tintoria Rossi is offline since ")
            assert "(connection lost)" in alert.message and "its 2 devices" in alert.message
            await asyncio.sleep(4.0)  # its meters are silent for more than 3 polls: still one alert
            assert [a.kind for a in r.published()] == ["gateway_offline"]

            # Scope: the operator and Tintoria's manager see it; Lanificio's manager and the public do not.
            await r.service.drain_events()
            assert [a["id"] for a in await r.api_alerts(r.users.operator)] == [alert.id]
            assert [a["id"] for a in await r.api_alerts(r.users.manager)] == [alert.id]
            assert await r.api_alerts(r.users.other_manager) == []
            assert await r.api_alerts(r.users.public) == []

            r.start_gateway()  # reconnects: its birth message says online
            await eventually(lambda: any(not a.active for a in r.published()), timeout_s=30,
                             what="the gateway_offline alert cleared")
            await readings_of_both(r)
            await asyncio.sleep(1.0)
            kinds = [(a.kind, a.id, a.active) for a in r.published()]
            assert kinds == [("gateway_offline", alert.id, True), ("gateway_offline", alert.id, False)]
            assert "is back online since" in r.published()[-1].message
            await r.service.drain_events()
            assert await r.api_alerts(r.users.operator) == []
            history = await r.api_alerts(r.users.manager, active_only=False)
            assert [(a["id"], a["active"]) for a in history] == [(alert.id, False)]
            stored = await r.store.events(EventKind.ALERT, district=DISTRICT, site=SITE)
            assert sorted(e.document["active"] for e in stored) == [False, True]
            assert r.metric("gateway_offline", "raised") == 1
            assert r.metric("gateway_offline", "cleared") == 1
            assert r.metric("device_offline", "raised") == 0
    finally:
        modbus_a.close()
        modbus_b.close()


async def test_a_device_whose_modbus_server_stops_raises_device_offline_and_clears_when_it_answers_again(
        tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory()
    modbus_a, modbus_b = ModbusThread().start(), ModbusThread().start()
    try:
        async with rig(tmp_path, broker, modbus_a, modbus_b) as r:
            r.start_gateway()
            await readings_of_both(r)
            modbus_b.close()  # meter-b stops answering
            await eventually(lambda: any(a.kind == "device_offline" for a in r.published()), timeout_s=30,
                             what="a device_offline alert")
            raised = r.published()
            assert [(a.kind, a.site, a.device, a.severity.value, a.active) for a in raised] == [
                ("device_offline", SITE, "meter-b", "warning", True)]
            alert = raised[0]
            assert alert.message.startswith("The device meter-b of Tintoria Rossi has sent no reading since ")
            await r.service.drain_events()
            assert [a["id"] for a in await r.api_alerts(r.users.manager)] == [alert.id]
            assert await r.api_alerts(r.users.other_manager) == []

            modbus_b = ModbusThread(port=modbus_b.port).start()  # it answers again
            await eventually(lambda: any(not a.active for a in r.published()), timeout_s=60,
                             what="the device_offline alert cleared")
            kinds = [(a.kind, a.device, a.id, a.active) for a in r.published()]
            assert kinds == [("device_offline", "meter-b", alert.id, True),
                             ("device_offline", "meter-b", alert.id, False)]
            cleared = r.published()[-1]
            assert cleared.ts > alert.ts and "sends readings again since" in cleared.message
            await r.service.drain_events()
            assert await r.api_alerts(r.users.manager) == []
            assert r.metric("device_offline", "raised") == 1
            assert r.metric("device_offline", "cleared") == 1
            assert r.metric("gateway_offline", "raised") == 0
    finally:
        modbus_a.close()
        modbus_b.close()
