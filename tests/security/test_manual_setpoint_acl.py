"""Item 5: an operator's manual setpoint reaches the coordinator through the shipped ACL.

The coordinator learns of manual setpoints from the setpoint topics; with an ACL that did
not let it read them, the next plan replaced the operator's value ten seconds later.
Real Mosquitto with deploy/mosquitto/nzd.acl, the real API (account nzd-api) and a
subscriber holding the coordinator's account and subscriptions.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coordinator.dispatch import AssetKey, ManualOverrides
from nzd.messages import Setpoint, SetpointSource, decode
from nzd.topics import TopicKind, site_filter
from tests.gateway.service.support import Subscriber, wait_until
from tests.harness import InfluxServer, MosquittoServer, require_binary
from tests.security.support import running_api

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
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
