"""The API's live table and the coordinator's live state stay bounded by the registry.

The attack: a gateway inventing device and quantity names on its own site's topics; the API
kept every (device, quantity) it ever saw in memory, and so did the coordinator. Now the
coordinator keeps the registry's devices only and the quantities it plans with; the API's
latest values (api/latest_cache.py) the registry's devices and others up to a per-site cap
(ingest's), a bounded number of quantities per device.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt

from api.latest_cache import LatestTable
from api.live import LiveHub
from api.metrics import ApiMetrics
from api.settings import ApiSettings
from coordinator.state import LiveState
from nzd.config import load_district
from nzd.messages import DeviceKind, Telemetry
from nzd.topics import telemetry_topic
from tests.gateway.service.support import until
from tests.harness import MosquittoServer

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "firmware_configs" / "examples" / "district.yaml"
SITE = "tintoria-rossi"
N = 20_000


def invented(i: int, *, device: str | None = None) -> Telemetry:
    return Telemetry(ts=1_767_225_600_000 + i, seq=i, device=device or f"fake-{i}",
                     kind=DeviceKind.ELECTRICITY_METER,
                     values={f"invented_{i}_w": 1.0, "active_power_w": 5.0})


def test_the_coordinators_live_state_keeps_only_what_it_plans_with() -> None:
    district = load_district(DISTRICT_FILE)
    state = LiveState(district=district, stale_after_s=300)
    for i in range(N):
        state.on_telemetry(SITE, invented(i))
        state.on_telemetry(SITE, invented(i, device="main-meter"))  # a real device, invented names
        state.on_telemetry("no-such-site", invented(i, device="main-meter"))
    assert len(state._values) == 1  # (tintoria-rossi, main-meter, active_power_w)
    assert state.value(site=SITE, device="main-meter", quantity="active_power_w",
                       now_ms=1_767_225_600_000 + N) == 5.0


async def test_the_apis_live_table_stays_bounded_under_a_flood(mosquitto: MosquittoServer) -> None:
    district = load_district(DISTRICT_FILE)
    settings = ApiSettings(mqtt_url=mosquitto.url)
    metrics = ApiMetrics()
    latest = LatestTable(district=district, metrics=metrics, lookback_s=settings.latest_lookback_s,
                         max_devices=settings.latest_max_devices,
                         max_quantities=settings.latest_max_quantities)
    hub = LiveHub(settings=settings, district=district, metrics=metrics, latest=latest)
    task = asyncio.create_task(hub.run())
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"flood-{time.time_ns()}")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        await asyncio.wait_for(hub.connected.wait(), 10)
        d = district.district
        for i in range(N // 10):
            client.publish(telemetry_topic(district=d, site=SITE, device=f"fake-{i}"),
                           orjson.dumps(invented(i).model_dump(mode="json")), qos=0)
            client.publish(telemetry_topic(district=d, site=SITE, device="main-meter"),
                           orjson.dumps(invented(i, device="main-meter").model_dump(mode="json")), qos=0)
        # A registry device first heard after the flood still gets in.
        pv = invented(N, device="pv-inverter").model_copy(update={"values": {"pv_power_w": 3.0}})
        client.publish(telemetry_topic(district=d, site=SITE, device="pv-inverter"),
                       orjson.dumps(pv.model_dump(mode="json")), qos=1).wait_for_publish(10)
        last = invented(N, device="main-meter").model_copy(update={"values": {"active_power_w": 7.0}})
        client.publish(telemetry_topic(district=d, site=SITE, device="main-meter"),
                       orjson.dumps(last.model_dump(mode="json")), qos=1).wait_for_publish(10)

        def arrived() -> bool:
            return any(r.device == "main-meter" and r.values.get("active_power_w") == 7.0
                       for r in latest.readings(SITE))

        await until(arrived, timeout_s=30, what="the last reading to reach the hub")
    finally:
        client.disconnect()
        client.loop_stop()
        task.cancel()
    readings = {r.device: r for r in latest.readings(SITE)}
    assert len(readings) == settings.latest_max_devices + 1  # the cap, and the PV heard after it
    assert {"main-meter", "pv-inverter"} <= set(readings)
    assert len(readings["main-meter"].values) == settings.latest_max_quantities
    assert readings["pv-inverter"].values == {"pv_power_w": 3.0}
    assert latest.district_flows(hidden=None)[0].pv_w == 3.0
