"""Latest values from memory: the live subscription, the store at start-up, old devices, bounds."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from api.auth import new_api_token
from api.settings import ApiSettings
from nzd.messages import DeviceKind, Quality, Telemetry, encode
from nzd.settings import ServiceSettings
from nzd.store import Reading
from nzd.topics import telemetry_topic
from tests.api.conftest import DISTRICT, DISTRICT_FILE, SITE_A, _write, run, serve
from tests.coordinator.ingest.support import IngestProcess, wait_until
from tests.harness import InfluxServer, MosquittoServer

METER = DeviceKind.ELECTRICITY_METER


class Api:
    """An API server of its own (own broker, own database), which a test may restart."""

    def __init__(self, settings: ApiSettings, token: str) -> None:
        self.settings, self.token = settings, token
        self.server, self.thread, self.url = serve(settings)

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=30,
                         headers={"Authorization": f"Bearer {self.token}"})

    def latest(self, device: str | None = None) -> list[dict[str, Any]]:
        r = self.get(f"/api/v1/sites/{SITE_A}/latest", **({"device": device} if device else {}))
        assert r.status_code == 200, r.text
        rows: list[dict[str, Any]] = r.json()
        return rows

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.server, self.thread, self.url = serve(self.settings)


@dataclass
class Setup:
    """A private broker and database; ``start`` writes readings to the store, then starts an API."""

    influx: InfluxServer
    broker: MosquittoServer
    database: str
    users: Path
    token: str
    apis: list[Api]

    def start(self, readings: Sequence[Reading] = (), **settings: Any) -> Api:
        store = ServiceSettings(influx_url=self.influx.url, influx_database=self.database)
        if readings:
            run(_write(store, list(readings), []))
        api = Api(ApiSettings(influx_url=self.influx.url, influx_database=self.database,
                              mqtt_url=self.broker.url, district_file=DISTRICT_FILE, users_file=self.users,
                              jwt_secret=SecretStr("demo-only-" + secrets.token_hex(16)), **settings),
                  self.token)
        self.apis.append(api)
        wait_until(lambda: httpx.get(f"{api.url}/healthz", timeout=2).json().get("mqtt") is True,
                   timeout_s=30, what="the API to subscribe")
        return api


@pytest.fixture
def setup(influxdb: InfluxServer, mosquitto_factory: Callable[..., MosquittoServer],
          tmp_path: Path) -> Iterator[Setup]:
    token, token_hash = new_api_token("ops")
    users = tmp_path / "users.yaml"
    users.write_text(yaml.safe_dump({"users": [{"username": "operator", "role": "operator",
                                                "tokens": [{"id": "ops", "hash": token_hash}]}]}))
    s = Setup(influxdb, mosquitto_factory(), f"api_latest_{uuid.uuid4().hex[:8]}", users, token, [])
    yield s
    for api in s.apis:
        api.stop()


def publish(broker: MosquittoServer, site: str, messages: list[Telemetry]) -> None:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for m in messages:
            client.publish(telemetry_topic(district=DISTRICT, site=site, device=m.device), encode(m),
                           qos=1).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def now_ms() -> int:
    return int(time.time() * 1000)


def test_a_published_reading_is_in_latest_at_once_and_survives_a_restart(
        setup: Setup, influxdb: InfluxServer, tmp_path: Path) -> None:
    api = setup.start()
    broker: MosquittoServer = setup.broker
    ingest = IngestProcess(mqtt_port=broker.port, influx_url=influxdb.url,
                           database=setup.database,
                           client_id="ingest-latest", group="", log_path=tmp_path / "ingest.log").start()
    try:
        t = now_ms()
        publish(broker, SITE_A, [
            Telemetry(ts=t - 1000, seq=40, device="dyeing-meter", kind=METER,
                      values={"active_power_w": 61_000.0, "energy_import_wh": 5.0e6}),
            Telemetry(ts=t, seq=41, device="dyeing-meter", kind=METER, values={"active_power_w": 60_000.0},
                      replayed=True, quality={"energy_import_wh": Quality.COMM_ERROR})])
        published_s = time.monotonic()
        while not api.latest("dyeing-meter") or api.latest("dyeing-meter")[0]["seq"] != 41:
            assert time.monotonic() - published_s < 5, "the reading never reached /latest"
            time.sleep(0.005)
        # Not a timing assertion: benchmarks/api.py measures the delay; here it must just be short.
        [reading] = api.latest("dyeing-meter")
        expected: dict[str, Any] = {
            "site": SITE_A, "device": "dyeing-meter", "kind": "electricity_meter", "ts_ms": t,
            "values": {"active_power_w": 60_000.0, "energy_import_wh": 5.0e6}, "seq": 41,
            "quality": {"energy_import_wh": "comm_error"}, "replayed": True, "old": False}
        assert reading == expected
        # An older reading out of a gateway's buffer arrives late: it does not roll anything back.
        publish(broker, SITE_A, [Telemetry(ts=t - 500, seq=39, device="dyeing-meter", kind=METER,
                                           values={"active_power_w": 1.0, "voltage_v": 231.0})])
        wait_until(lambda: "voltage_v" in api.latest("dyeing-meter")[0]["values"], timeout_s=5,
                   what="the late reading's new quantity")
        assert api.latest("dyeing-meter")[0] == {**expected, "values": {**expected["values"],
                                                                          "voltage_v": 231.0}}
        wait_until(lambda: ingest.metric("nzd_ingest_written_total") >= 3, timeout_s=20,
                   what="ingest to store the readings")
    finally:
        ingest.stop()
    api.restart()
    assert api.latest("dyeing-meter") == [{**expected, "values": {**expected["values"],
                                                                   "voltage_v": 231.0}}]


def test_a_device_silent_longer_than_the_lookback_is_listed_as_old(setup: Setup) -> None:
    t = now_ms()
    api = setup.start([
        Reading(DISTRICT, SITE_A, "old-meter", METER, t - 7_200_000, 5,
                {"active_power_w": 12.0, "energy_import_wh": 3.0e5}),
        Reading(DISTRICT, SITE_A, "old-meter", METER, t - 7_100_000, 6, {"active_power_w": 13.0}),
        Reading(DISTRICT, SITE_A, "main-meter", METER, t - 60_000, 9, {"active_power_w": 42_000.0}),
    ], latest_lookback_s=3600)
    rows = api.latest()
    assert [(r["device"], r["seq"], r["old"]) for r in rows] == [("main-meter", 9, False),
                                                                  ("old-meter", 6, True)]
    assert rows[1]["values"] == {"active_power_w": 13.0, "energy_import_wh": 3.0e5}
    assert rows[1]["ts_ms"] == t - 7_100_000
    # The old meter speaks again: it is current.
    publish(setup.broker, SITE_A, [Telemetry(ts=now_ms(), seq=7, device="old-meter", kind=METER,
                                                values={"active_power_w": 14.0})])
    wait_until(lambda: api.latest("old-meter")[0]["seq"] == 7, timeout_s=5, what="the new reading")
    assert api.latest("old-meter")[0]["old"] is False
    # Site flows come from the same memory.
    flows = api.get(f"/api/v1/sites/{SITE_A}/flows").json()
    assert flows["grid_w"] == 42_000.0


def test_a_reading_turns_old_while_the_api_runs(setup: Setup) -> None:
    api = setup.start(latest_lookback_s=5.0)
    t = now_ms()
    publish(setup.broker, SITE_A, [Telemetry(ts=t, seq=1, device="main-meter", kind=METER,
                                             values={"active_power_w": 5.0})])
    wait_until(lambda: bool(api.latest()), timeout_s=5, what="the reading")
    assert api.latest()[0]["old"] is (now_ms() >= t + 5000)
    time.sleep(max(0.0, (t + 5100 - now_ms()) / 1000))
    assert api.latest()[0]["old"] is True


def test_the_table_is_bounded_and_what_it_leaves_out_is_counted(setup: Setup) -> None:
    api = setup.start(latest_max_devices=3, latest_max_quantities=2)
    t = now_ms()
    publish(setup.broker, SITE_A, [
        Telemetry(ts=t, seq=i, device=f"meter-{i}", kind=METER,
                  values={"active_power_w": float(i), "voltage_v": 230.0, "current_a": 1.0})
        for i in range(5)])
    publish(setup.broker, "not-in-the-registry", [
        Telemetry(ts=t, seq=1, device="m", kind=METER, values={"active_power_w": 1.0})])

    def refused() -> dict[str, float]:
        out = {}
        for line in httpx.get(f"{api.url}/metrics", timeout=5).text.splitlines():
            if line.startswith("nzd_api_latest_refused_total{"):
                out[line.split('reason="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
        return out

    wait_until(lambda: refused().get("unknown_site") == 1, timeout_s=5, what="the unknown site counted")
    assert refused() == {"devices": 2, "quantities": 3, "unknown_site": 1}
    rows = api.latest()
    assert [r["device"] for r in rows] == ["meter-0", "meter-1", "meter-2"]
    assert all(len(r["values"]) == 2 for r in rows)


def test_what_the_subscription_missed_during_a_broker_outage_comes_from_the_store(setup: Setup) -> None:
    api = setup.start(latest_refresh_s=600)  # the periodic refresh is far off: the reconnect brings it
    setup.broker.stop()
    wait_until(lambda: httpx.get(f"{api.url}/healthz", timeout=2).json().get("mqtt") is False, timeout_s=10,
               what="the API to notice the outage")
    # Meanwhile ingest (with its persistent session) stored a reading the API never saw.
    t = now_ms()
    run(_write(ServiceSettings(influx_url=setup.influx.url, influx_database=setup.database),
               [Reading(DISTRICT, SITE_A, "main-meter", METER, t, 77, {"active_power_w": 777.0})], []))
    setup.broker.start()
    wait_until(lambda: bool(api.latest("main-meter")), timeout_s=20, what="the missed reading")
    assert api.latest("main-meter")[0]["seq"] == 77
