"""Per-site limits at ingest: invented device and quantity names cannot blow up the store.

The attack: one gateway, on its own site's topics, invents device and quantity names. Each
device became an InfluxDB series and each quantity a field of the measurement every site
shares; 2,000 messages made ``/latest`` answer 503 and 20,000 took influxd to 23.6 GB. Now
ingest admits per site at most N devices, M quantity names and a message rate; the rest is
dead-lettered, counted (``nzd_ingest_limited_total``) and raises an alert (MQTT + store).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import orjson
import paho.mqtt.client as mqtt

from coordinator.ingest.limits import Limit, LimitSettings, SiteLimits
from coordinator.ingest.settings import DEADLETTER_TOPIC
from nzd.messages import Alert, DeviceKind, decode
from nzd.store import EventKind, InfluxStore, Reading
from nzd.topics import telemetry_topic
from tests.coordinator.ingest.support import IngestProcess, wait_until
from tests.gateway.service.support import Subscriber
from tests.harness import InfluxServer, MosquittoServer
from tests.security.conftest import ACCOUNTS, DISTRICT

T0 = time.time_ns() // 1_000_000 - 600_000


def reading(device: str, values: dict[str, float], site: str = "site-a") -> Reading:
    return Reading(district=DISTRICT, site=site, device=device, kind=DeviceKind.ELECTRICITY_METER,
                   ts_ms=T0, seq=1, values=values)


def test_devices_quantities_and_rate_by_hand() -> None:
    limits = SiteLimits(LimitSettings(max_devices=2, max_quantities=3, messages_per_s=1.0, burst=100,
                                      alert_every_s=60))
    assert limits.admit(reading("a", {"p_w": 1}), now_s=0) is None
    assert limits.admit(reading("b", {"p_w": 1, "e_wh": 1}), now_s=0) is None
    refused = limits.admit(reading("c", {"p_w": 1}), now_s=0)
    assert refused is not None and refused.limit is Limit.DEVICES and refused.alert is not None
    assert refused.alert.kind == "ingest_limit_devices" and refused.alert.threshold == 2
    assert refused.alert.id.startswith("limit-site-a-devices-")
    again = limits.admit(reading("d", {"p_w": 1}), now_s=1)
    assert again is not None and again.alert is None  # one alert per limit and period
    assert limits.admit(reading("a", {"q_v": 1}), now_s=1) is None  # third name: fits
    too_many = limits.admit(reading("a", {"r_a": 1}), now_s=1)
    assert too_many is not None and too_many.limit is Limit.QUANTITIES
    assert limits.admit(reading("c", {"p_w": 1}, site="site-b"), now_s=1) is None  # per site
    long_site = "s" * 64
    for device in ("a", "b", "c"):
        last = limits.admit(reading(device, {"p_w": 1}, site=long_site), now_s=1)
    assert last is not None and last.alert is not None and len(last.alert.id) <= 64
    assert limits.refused(DISTRICT, "site-a") == {Limit.DEVICES: 2, Limit.QUANTITIES: 1}
    # After alert_every_s a continuing flood raises the alert again.
    later = limits.admit(reading("e", {"p_w": 1}), now_s=61)
    assert later is not None and later.alert is not None


def test_rate_is_a_token_bucket() -> None:
    limits = SiteLimits(LimitSettings(messages_per_s=10.0, burst=5))
    admitted = [limits.admit(reading("a", {"p_w": 1}), now_s=0) is None for _ in range(8)]
    assert admitted == [True] * 5 + [False] * 3  # the burst, then nothing at t=0
    # 0.5 s later: 10/s * 0.5 s = 5 tokens again.
    assert sum(limits.admit(reading("a", {"p_w": 1}), now_s=0.5) is None for _ in range(8)) == 5


async def test_a_gateway_inventing_names_is_stopped_at_ingest(
        broker: MosquittoServer, influxdb: InfluxServer, ingest: Callable[..., IngestProcess]) -> None:
    database = f"sec_lim_{uuid.uuid4().hex[:8]}"
    watch = Subscriber(port=broker.port, client_id="api", username="nzd-api", password=ACCOUNTS["nzd-api"],
                       topics=[DEADLETTER_TOPIC, "nzd/v1/+/+/alert/+"])
    proc = ingest(broker=broker, influx_url=influxdb.url, database=database,
                  site_max_devices="10", site_max_quantities="20")
    gw = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="gw")
    gw.username_pw_set(f"{DISTRICT}/site-a", ACCOUNTS[f"{DISTRICT}/site-a"])
    gw.connect("127.0.0.1", broker.port)
    gw.loop_start()
    store = InfluxStore(url=influxdb.url, database=database, create_database=False)
    try:
        infos = []
        for i in range(300):  # a new device and a new quantity in every message
            doc = {"ts": T0 + i, "seq": i, "device": f"fake-{i}", "kind": "electricity_meter",
                   "values": {f"invented_{i}_w": 1.0}}
            infos.append(gw.publish(telemetry_topic(district=DISTRICT, site="site-a", device=f"fake-{i}"),
                                    orjson.dumps(doc), qos=1))
        for i in range(50):  # then new quantity names on a device it already has
            doc = {"ts": T0 + 1000 + i, "seq": 1000 + i, "device": "fake-0", "kind": "electricity_meter",
                   "values": {f"more_{i}_w": 1.0}}
            infos.append(gw.publish(telemetry_topic(district=DISTRICT, site="site-a", device="fake-0"),
                                    orjson.dumps(doc), qos=1))
        for info in infos:
            info.wait_for_publish(timeout=30)
        refused = 290 + 40  # 10 devices with a name each, then 10 more names: 20
        wait_until(lambda: proc.metric("nzd_ingest_limited_total") >= refused, timeout_s=60,
                   what=f"{refused} refusals; log:\n{proc.log()}")
        wait_until(lambda: proc.metric("nzd_ingest_written_total") >= 20, timeout_s=30, what="20 stored")
        assert proc.metric("nzd_ingest_limited_total") == refused
        assert proc.metric("nzd_ingest_written_total") == 20

        fields = influxdb.query('SHOW FIELD KEYS FROM "electricity_meter"', db=database)
        names = {row[0] for row in fields["results"][0]["series"][0]["values"]}  # type: ignore[index]
        assert len(names - {"seq"}) == 20
        series = influxdb.query('SHOW SERIES FROM "electricity_meter"', db=database)
        assert len(series["results"][0]["series"][0]["values"]) == 10  # type: ignore[index]

        def seen(kind: str) -> list[bytes]:
            return [p for t, p, _ in watch.snapshot() if (t == DEADLETTER_TOPIC) == (kind == "dead")]

        wait_until(lambda: len(seen("dead")) >= refused and len(seen("alert")) >= 2, timeout_s=30,
                   what="the dead letters and the two alerts")
        reasons = [orjson.loads(p)["reason"] for p in seen("dead")]
        assert all(r.startswith("limit exceeded") for r in reasons)
        alerts = sorted((decode(p, Alert) for p in seen("alert")), key=lambda a: a.kind)
        assert [(a.site, a.kind, a.threshold) for a in alerts] == [
            ("site-a", "ingest_limit_devices", 10.0), ("site-a", "ingest_limit_quantities", 20.0)]
        await store.open()
        stored = await store.events(EventKind.ALERT, district=DISTRICT, site="site-a")
        assert sorted(e.document["kind"] for e in stored) == ["ingest_limit_devices",
                                                              "ingest_limit_quantities"]
    finally:
        await store.close()
        gw.disconnect()
        gw.loop_stop()
        watch.close()
