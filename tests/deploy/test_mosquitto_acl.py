"""deploy/mosquitto: a real Mosquitto with the shipped ACL keeps every gateway to its own site."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import Setpoint, encode
from nzd.topics import TopicKind, confirm_topic, setpoint_topic, site_filter, status_topic, telemetry_topic
from tests.gateway.service.support import (
    ModbusThread,
    Subscriber,
    publish,
    until,
    wait_until,
    write_gateway_config,
)
from tests.harness import MosquittoServer, free_port, require_binary, wait_for_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
ACCOUNTS = {
    "prato/site-a": "pw-a-7f3k",
    "prato/site-b": "pw-b-9q2m",
    "nzd-coordinator": "pw-coord-4x8z",
    "nzd-ingest-1": "pw-ingest-2v6n",
}


@pytest.fixture(scope="module")
def passwords() -> Iterator[Path]:
    # World-readable: a root-started Mosquitto reads it as the mosquitto user.
    folder = Path(tempfile.mkdtemp(prefix="nzd-acl-"))
    folder.chmod(0o755)
    path = folder / "passwd"
    path.touch()
    passwd = require_binary("mosquitto_passwd", "mosquitto")
    for user, password in ACCOUNTS.items():
        subprocess.run([passwd, "-b", str(path), user, password], check=True, capture_output=True)
    path.chmod(0o644)
    # The shipped ACL, copied beside it: the checkout may lie under a folder only root can enter
    # (mktemp -d makes it 0700), and the broker reads the file as the mosquitto user.
    acl = folder / "nzd.acl"
    shutil.copyfile(DEPLOY / "nzd.acl", acl)
    acl.chmod(0o644)
    yield path
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()


@pytest.fixture
def broker(mosquitto_factory: Callable[..., MosquittoServer], passwords: Path) -> MosquittoServer:
    return mosquitto_factory(password_file=passwords, acl_file=passwords.parent / "nzd.acl")


def send(broker: MosquittoServer, user: str, topic: str, payload: bytes = b"{}") -> None:
    publish(broker.port, topic, payload, username=user, password=ACCOUNTS[user])


def setpoint(asset: str) -> bytes:
    now = time.time_ns() // 1_000_000
    return encode(Setpoint(id=1, asset=asset, quantity="battery_power_setpoint_w", value=0.0,
                           valid_from=now, valid_until=now + 60_000, issued_at=now))


def test_site_a_cannot_publish_on_b_nor_any_setpoint_nor_read_bs_setpoints(broker: MosquittoServer) -> None:
    # The coordinator watches all telemetry and status; B's gateway watches B's setpoints.
    watcher = Subscriber(port=broker.port, client_id="watch-coord", username="nzd-coordinator",
                         password=ACCOUNTS["nzd-coordinator"], topics=["nzd/v1/+/+/+/telemetry",
                                                                        "nzd/v1/+/+/+/status"])
    b_gateway = Subscriber(port=broker.port, client_id="gw-b", username="prato/site-b",
                           password=ACCOUNTS["prato/site-b"],
                           topics=[site_filter(TopicKind.SETPOINT, district="prato", site="site-b")])
    a_spy = Subscriber(port=broker.port, client_id="gw-a-spy", username="prato/site-a",
                       password=ACCOUNTS["prato/site-a"],
                       topics=[site_filter(TopicKind.SETPOINT, district="prato", site="site-b"),
                               "nzd/v1/#"])
    try:
        a = "prato/site-a"
        send(broker, a, telemetry_topic(district="prato", site="site-b", device="meter"), b"forged-b")
        send(broker, a, status_topic(district="prato", site="site-b", gateway="gw-b"), b"forged-b")
        send(broker, a, setpoint_topic(district="prato", site="site-b", asset="battery"), setpoint("battery"))
        send(broker, a, setpoint_topic(district="prato", site="site-a", asset="battery"), setpoint("battery"))
        # telemetry/status grants must not reach into the setpoint level
        send(broker, a, "nzd/v1/prato/site-a/setpoint/telemetry", b"forged")
        send(broker, a, "nzd/v1/prato/site-b/setpoint/status", b"forged")
        # The coordinator may send B a setpoint; A's spy must not see it.
        send(broker, "nzd-coordinator", setpoint_topic(district="prato", site="site-b", asset="battery"),
             setpoint("battery"))
        # And A's own telemetry does get through: the watcher works.
        send(broker, a, telemetry_topic(district="prato", site="site-a", device="meter"), b"own-a")

        wait_until(lambda: len(watcher.snapshot()) >= 1 and len(b_gateway.snapshot()) >= 1, timeout_s=10,
                   what="the allowed messages")
        time.sleep(1.0)  # give anything wrongly allowed the time to arrive
        assert [p for _, p, _ in watcher.snapshot()] == [b"own-a"]
        assert [t for t, _, _ in b_gateway.snapshot()] == ["nzd/v1/prato/site-b/setpoint/battery"]
        # A reads nothing of B, and nothing of its own but setpoints (none were let through).
        assert a_spy.snapshot() == []
    finally:
        for s in (watcher, b_gateway, a_spy):
            s.close()


def test_service_accounts_get_only_what_they_need(broker: MosquittoServer) -> None:
    b_gateway = Subscriber(port=broker.port, client_id="watch-b", username="prato/site-b",
                            password=ACCOUNTS["prato/site-b"], topics=["nzd/v1/prato/site-b/setpoint/+"])
    try:
        # ingest publishes no setpoints
        send(broker, "nzd-ingest-1", setpoint_topic(district="prato", site="site-b", asset="battery"),
             setpoint("battery"))
        time.sleep(1.0)
        assert b_gateway.snapshot() == []
    finally:
        b_gateway.close()


def test_ingest_confirms_to_each_site_which_reads_only_its_own_and_cannot_forge_them(
        broker: MosquittoServer) -> None:
    a_gateway = Subscriber(port=broker.port, client_id="gw-a-confirm", username="prato/site-a",
                           password=ACCOUNTS["prato/site-a"],
                           topics=[site_filter(TopicKind.CONFIRM, district="prato", site="site-a"),
                                   site_filter(TopicKind.CONFIRM, district="prato", site="site-b")])
    try:
        send(broker, "nzd-ingest-1", confirm_topic(district="prato", site="site-a", device="meter"), b"for-a")
        send(broker, "nzd-ingest-1", confirm_topic(district="prato", site="site-b", device="meter"), b"for-b")
        # A gateway cannot confirm anything, not even on its own site, nor through a reserved name.
        own = confirm_topic(district="prato", site="site-a", device="meter")
        send(broker, "prato/site-a", own, b"forged")
        send(broker, "prato/site-a", "nzd/v1/prato/site-a/confirm/telemetry", b"forged")
        wait_until(lambda: len(a_gateway.snapshot()) >= 1, timeout_s=10, what="a's confirmation")
        time.sleep(1.0)
        assert [(t, p) for t, p, _ in a_gateway.snapshot()] == [
            ("nzd/v1/prato/site-a/confirm/meter", b"for-a")]
    finally:
        a_gateway.close()


async def test_a_gateway_with_a_password_file_publishes_its_site_under_the_acl(
        tmp_path: Path, broker: MosquittoServer) -> None:
    secret = tmp_path / "gateway.password"
    secret.write_text(ACCOUNTS["prato/site-a"] + "\n")
    modbus = ModbusThread().start()
    cfg = load_gateway_config(write_gateway_config(
        tmp_path, broker_port=broker.port, modbus_port=modbus.port, meters=1, site="site-a",
        extra_broker={"username": "prato/site-a", "password_file": str(secret)}))
    sub = await asyncio.to_thread(Subscriber, port=broker.port, client_id="ingest", username="nzd-ingest-1",
                                  password=ACCOUNTS["nzd-ingest-1"], topics=["nzd/v1/+/+/+/telemetry",
                                                                            "nzd/v1/+/+/+/status"])
    service = GatewayService(config=cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(lambda: len(sub.telemetry()) >= 2 and len(sub.statuses()) >= 1, timeout_s=20,
                    what="telemetry and status through the ACL")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        sub.close()
        modbus.close()
    assert {m.device for m in sub.telemetry()} == {"meter-00"}


def test_the_shipped_mosquitto_conf_starts(tmp_path: Path, passwords: Path) -> None:
    """The deploy config, with this machine's paths and port swapped in, is valid for Mosquitto."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="nzd-conf-"))
    data.chmod(0o777)
    lines = []
    for line in (DEPLOY / "mosquitto.conf").read_text().splitlines():
        key = line.split(" ", 1)[0]
        replaced = {"listener": f"listener {port} 127.0.0.1", "password_file": f"password_file {passwords}",
                    "acl_file": f"acl_file {passwords.parent / 'nzd.acl'}",
                    "persistence_location": f"persistence_location {data}/", "log_dest": "log_dest stdout"}
        lines.append(replaced.get(key, line))
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n")
    conf.chmod(0o644)
    tmp_path.chmod(0o755)
    proc = subprocess.Popen([require_binary("mosquitto", "mosquitto"), "-c", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout_s=10)
        assert proc.poll() is None
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        for f in data.iterdir():
            f.unlink()
        data.rmdir()
    assert b"Error" not in out, out.decode(errors="replace")
