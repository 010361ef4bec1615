"""Item 5: an operator's manual setpoint reaches the coordinator through the shipped ACL.

The coordinator learns of manual setpoints from the setpoint topics; with an ACL that did
not let it read them, the next plan replaced the operator's value ten seconds later.
Real Mosquitto with deploy/mosquitto/nzd.acl, the real API (account nzd-api) and a
subscriber holding the coordinator's account and subscriptions.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coordinator.dispatch import AssetKey, ManualOverrides
from coordinator.service import CoordinatorService
from nzd.config import load_district
from nzd.messages import Setpoint, SetpointSource, decode
from nzd.topics import TopicKind, site_filter
from tests.api.conftest import DISTRICT_FILE
from tests.coordinator.service.helpers import FixedPlanner, eventually, running, settings_for
from tests.gateway.service.support import Subscriber, wait_until
from tests.harness import InfluxServer, MosquittoServer, require_binary
from tests.security.support import running_api

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
SITE, ASSET = "depuratore", "community-battery"
ACCOUNTS = {"nzd-coordinator": "pw-coord-" + "4x8z", "nzd-api": "pw-api-" + "7h2w"}


@pytest.fixture(scope="module")
def shipped_acl_broker_files() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="nzd-sec-acl-"))
    folder.chmod(0o755)  # a root-started broker reads the files as the mosquitto user
    path = folder / "passwd"
    path.touch()
    passwd = require_binary("mosquitto_passwd", "mosquitto")
    for user, password in ACCOUNTS.items():
        subprocess.run([passwd, "-b", str(path), user, password], check=True, capture_output=True)
    path.chmod(0o644)
    shutil.copyfile(DEPLOY / "nzd.acl", folder / "nzd.acl")
    (folder / "nzd.acl").chmod(0o644)
    yield folder
    shutil.rmtree(folder)


def test_the_coordinator_sees_the_operators_manual_setpoint(
        mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
        shipped_acl_broker_files: Path, tmp_path: Path) -> None:
    broker = mosquitto_factory(password_file=shipped_acl_broker_files / "passwd",
                               acl_file=shipped_acl_broker_files / "nzd.acl")
    # What the coordinator subscribes to (coordinator/service/_service.py), with its account.
    coordinator = Subscriber(port=broker.port, client_id="sec-coordinator", username="nzd-coordinator",
                             password=ACCOUNTS["nzd-coordinator"],
                             topics=[site_filter(TopicKind.SETPOINT, district="prato-est")])
    try:
        with running_api(influx=influxdb, mosquitto=broker, folder=tmp_path, mqtt_username="nzd-api",
                         mqtt_password=ACCOUNTS["nzd-api"]) as api, api.client(api.operator) as c:
            r = c.post("/api/v1/sites/depuratore/setpoints", json={
                "asset": "community-battery", "quantity": "battery_power_setpoint_w", "value": -50_000,
                "valid_minutes": 30})
            assert r.status_code == 202, r.text
            wait_until(lambda: len(coordinator.snapshot()) >= 1, timeout_s=10,
                       what="the manual setpoint at the coordinator")
        topic, payload, _ = coordinator.snapshot()[0]
        assert topic == "nzd/v1/prato-est/depuratore/setpoint/community-battery"
        sp = decode(payload, Setpoint)
        assert sp.source is SetpointSource.MANUAL and sp.value == -50_000
        # ...so the coordinator's plan leaves the asset to the operator while the setpoint holds.
        manual = ManualOverrides()
        manual.seen("depuratore", sp)
        now_ms = int(time.time() * 1000)
        assert manual.active(now_ms=now_ms) == {AssetKey("depuratore", "community-battery")}
    finally:
        coordinator.close()


async def test_the_real_coordinator_leaves_the_asset_to_the_operator(
        mosquitto_factory: Callable[..., MosquittoServer], influxdb: InfluxServer,
        shipped_acl_broker_files: Path, tmp_path: Path) -> None:
    """End to end: API (nzd-api) -> shipped ACL -> the coordinator service (nzd-coordinator),
    whose next plan plans the battery as unavailable and sends it nothing."""
    broker = mosquitto_factory(password_file=shipped_acl_broker_files / "passwd",
                               acl_file=shipped_acl_broker_files / "nzd.acl")
    planner = FixedPlanner(values={(SITE, ASSET, "battery_power_setpoint_w"): 20_000.0})
    settings = settings_for(broker.url, mqtt_username="nzd-coordinator",
                            mqtt_password=ACCOUNTS["nzd-coordinator"], mqtt_client_id="nzd-coordinator",
                            store_events=False, leak_check_interval_s=0)
    service = CoordinatorService(settings=settings, district=load_district(DISTRICT_FILE), planner=planner)
    def setpoints_seen() -> float:
        value = service.metrics.registry.get_sample_value("nzd_coordinator_messages_total",
                                                          {"kind": "setpoint"})
        return 0.0 if value is None else value

    async with running(service):
        await service.wait_for_plan()
        # The first plan's battery setpoint comes back to the coordinator too; count past it.
        await eventually(lambda: setpoints_seen() >= 1, what="the plan's own setpoint")
        before = setpoints_seen()
        with running_api(influx=influxdb, mosquitto=broker, folder=tmp_path, mqtt_username="nzd-api",
                         mqtt_password=ACCOUNTS["nzd-api"]) as api:
            def send() -> int:
                with api.client(api.operator) as c:
                    return c.post(f"/api/v1/sites/{SITE}/setpoints", json={
                        "asset": ASSET, "quantity": "battery_power_setpoint_w", "value": -50_000,
                        "valid_minutes": 30}).status_code

            assert await asyncio.to_thread(send) == 202
            await eventually(lambda: setpoints_seen() >= before + 1, what="the manual setpoint")
            await service.plan_and_dispatch()
    assert AssetKey(SITE, ASSET) in planner.requests[-1].excluded
    assert service.metrics.registry.get_sample_value("nzd_coordinator_manual_overrides") == 1.0
