"""Client ids are bound to accounts: no client can take over another account's session.

The attack: a gateway account connected with ingest's documented client id ``nzd-ingest-1``;
Mosquitto closed the real ingest and handed the gateway ingest's persistent session, and the
readings queued in it (which the gateway may not read) were dropped for good. The shipped
config now sets ``use_username_as_clientid``: every client's id is its username, so one account
per connection (per ingest worker, per gateway), and services refuse a client id other than
their username.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from pydantic import ValidationError

from coordinator.ingest.settings import IngestSettings
from coordinator.settings import CoordinatorSettings
from nzd.topics import telemetry_topic
from tests.coordinator.ingest.support import ROOT, IngestProcess, distinct_seq, wait_until
from tests.harness import InfluxServer, MosquittoServer
from tests.security.conftest import ACCOUNTS, DEPLOY, DISTRICT, shipped_security_lines


class Client:
    """A paho client that reconnects on its own, as an attacker's would."""

    def __init__(self, port: int, *, username: str, client_id: str) -> None:
        self.connects = 0
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.username_pw_set(username, ACCOUNTS.get(username, GW2_PASSWORD))
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)

        def on_connect(_c: object, _u: object, _f: object, rc: object, _p: object) -> None:
            if not getattr(rc, "is_failure", True):
                self.connects += 1
                self.connected.set()

        self.client.on_connect = on_connect
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        assert self.connected.wait(10), f"{username} could not connect"

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


T0 = time.time_ns() // 1_000_000 - 3_600_000


def reading(site_seq: int, device: str = "meter") -> bytes:
    """Distinct timestamps: readings of one device at the same millisecond are one point."""
    return orjson.dumps({"ts": T0 + site_seq, "seq": site_seq, "device": device,
                         "kind": "electricity_meter", "values": {"active_power_w": float(site_seq)}})


def test_the_shipped_config_binds_client_ids_to_usernames() -> None:
    assert "use_username_as_clientid true" in shipped_security_lines()


def test_a_gateway_account_cannot_take_over_ingests_session(
        broker: MosquittoServer, influxdb: InfluxServer, ingest: Callable[..., IngestProcess]) -> None:
    database = f"sec_cid_{uuid.uuid4().hex[:8]}"
    worker = ingest(broker=broker, influx_url=influxdb.url, database=database)
    assert worker.health()["client_id"] == "nzd-ingest-1"
    attacker = Client(broker.port, username=f"{DISTRICT}/site-a", client_id="nzd-ingest-1")
    victim = Client(broker.port, username=f"{DISTRICT}/site-b", client_id="whatever")
    try:
        for seq in range(1, 41):  # 40 QoS 1 readings of another site, as in the report
            victim.publish(telemetry_topic(district=DISTRICT, site="site-b", device="meter"), reading(seq))
            time.sleep(0.05)
        wait_until(lambda: distinct_seq(influxdb.url, database) >= 40, timeout_s=30,
                   what=f"all 40 readings stored; ingest log:\n{worker.log()}")
        assert attacker.connects == 1  # never thrown out by ingest reconnecting either
    finally:
        attacker.close()
        victim.close()
    assert distinct_seq(influxdb.url, database) == 40
    assert "disconnected from the broker" not in worker.log()


def test_two_ingest_workers_each_with_its_account_split_the_stream(
        broker: MosquittoServer, influxdb: InfluxServer, ingest: Callable[..., IngestProcess]) -> None:
    database = f"sec_cid_{uuid.uuid4().hex[:8]}"
    workers = [ingest(broker=broker, influx_url=influxdb.url, database=database, account=a)
               for a in ("nzd-ingest-1", "nzd-ingest-2")]
    gateway = Client(broker.port, username=f"{DISTRICT}/site-a", client_id="gw")
    try:
        for seq in range(1, 201):
            gateway.client.publish(telemetry_topic(district=DISTRICT, site="site-a", device="meter"),
                                   reading(seq), qos=1)
        wait_until(lambda: distinct_seq(influxdb.url, database) >= 200, timeout_s=30,
                   what="200 readings stored by the two workers")
    finally:
        gateway.close()
    written = [w.metric("nzd_ingest_written_total") for w in workers]
    assert sum(written) == 200 and min(written) > 0, written  # both took part: no takeover
    for w in workers:
        assert "disconnected from the broker" not in w.log()


def test_services_refuse_a_client_id_other_than_their_username() -> None:
    assert IngestSettings(mqtt_username="nzd-ingest-2").ingest_client_id == "nzd-ingest-2"
    assert IngestSettings(mqtt_url="mqtt://nzd-ingest-3:pw@h:1883").ingest_client_id == "nzd-ingest-3"
    assert IngestSettings(mqtt_username=None).ingest_client_id == "nzd-ingest-1"  # anonymous broker
    with pytest.raises(ValidationError, match="differs from the MQTT username"):
        IngestSettings(mqtt_username="nzd-ingest-2", ingest_client_id="nzd-ingest-1")
    assert CoordinatorSettings(mqtt_username="nzd-coordinator").mqtt_client_id == "nzd-coordinator"
    with pytest.raises(ValidationError, match="differs from the MQTT username"):
        CoordinatorSettings(mqtt_username="nzd-coordinator", mqtt_client_id="nzd-ingest-1")


def test_ingest_does_not_start_with_another_accounts_client_id(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NZD_MQTT_USERNAME": "nzd-ingest-2",
           "NZD_MQTT_PASSWORD": "x", "NZD_INGEST_CLIENT_ID": "nzd-ingest-1", "NZD_INGEST_METRICS_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "nzd", "ingest"], env=env, cwd=ROOT, capture_output=True,
                          timeout=60)
    assert done.returncode == 2
    assert b"differs from the MQTT username 'nzd-ingest-2'" in done.stderr


GW2 = f"{DISTRICT}/site-a/gw2"
GW2_PASSWORD = "pw-a2-3k9d"


@pytest.fixture
def second_gateway_broker(mosquitto_factory: Callable[..., MosquittoServer],
                          broker_files: Path) -> Iterator[MosquittoServer]:
    """The shipped ACL plus the block deploy/mosquitto/README.md tells an installer to add for a
    site's second gateway."""
    readme = (DEPLOY / "README.md").read_text()
    block = readme.split("```acl\n", 1)[1].split("```", 1)[0]
    block = block.replace("prato-est/tintoria", f"{DISTRICT}/site-a")
    folder = Path(tempfile.mkdtemp(prefix="nzd-gw2-"))  # world-readable, unlike pytest's tmp_path
    folder.chmod(0o755)
    acl = folder / "nzd.acl"
    acl.write_text((broker_files / "nzd.acl").read_text() + "\n" + block)
    acl.chmod(0o644)
    passwd = folder / "passwd"
    passwd.write_text((broker_files / "passwd").read_text())
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), GW2, GW2_PASSWORD], check=True,
                   capture_output=True)
    passwd.chmod(0o644)
    yield mosquitto_factory(password_file=passwd, acl_file=acl, extra=shipped_security_lines())
    shutil.rmtree(folder, ignore_errors=True)


def test_two_gateways_of_one_site_each_with_its_account_stay_connected(
        second_gateway_broker: MosquittoServer) -> None:
    port = second_gateway_broker.port
    seen: list[str] = []
    watcher = Client(port, username="nzd-coordinator", client_id="c")
    watcher.client.on_message = lambda _c, _u, m: seen.append(m.topic)
    watcher.client.subscribe("nzd/v1/+/+/+/telemetry", qos=1)
    first = Client(port, username=f"{DISTRICT}/site-a", client_id="gw1")
    second = Client(port, username=GW2, client_id="gw2")
    try:
        time.sleep(0.5)
        first.publish(telemetry_topic(district=DISTRICT, site="site-a", device="m1"), reading(1, "m1"))
        second.publish(telemetry_topic(district=DISTRICT, site="site-a", device="m2"), reading(1, "m2"))
        wait_until(lambda: len(seen) >= 2, timeout_s=10, what="both gateways' telemetry")
        time.sleep(0.5)
        assert first.connects == 1 and second.connects == 1  # neither closed the other
        # Denied publishes (the broker may close a 3.1.1 connection for them, hence last).
        for topic in (telemetry_topic(district=DISTRICT, site="site-b", device="m3"),
                      f"nzd/v1/{DISTRICT}/site-a/setpoint/telemetry"):
            with contextlib.suppress(RuntimeError, ValueError):
                second.publish(topic, reading(1, "m3"))
        time.sleep(0.5)
    finally:
        for c in (first, second, watcher):
            c.close()
    # The second account has exactly its site's rights: not site B, not the reserved names.
    assert sorted(seen) == [f"nzd/v1/{DISTRICT}/site-a/m1/telemetry",
                            f"nzd/v1/{DISTRICT}/site-a/m2/telemetry"]
