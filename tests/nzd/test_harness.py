"""The harness end to end: contract → real Mosquitto → decode → real InfluxDB → InfluxQL."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import httpx

from nzd import DeviceKind, Telemetry, decode, encode, parse_topic, telemetry_topic
from tests.harness import InfluxServer, MosquittoServer


async def test_telemetry_crosses_mosquitto_and_influxdb(
    mosquitto: MosquittoServer, influxdb: InfluxServer
) -> None:
    reading = Telemetry(
        ts=int(time.time() * 1000), seq=42, device="main-meter",
        kind=DeviceKind.ELECTRICITY_METER,
        values={"active_power_w": -1234.5, "energy_import_wh": 98_765_432.0},
    )
    topic = telemetry_topic(district="harness", site="tintoria", device="main-meter")
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="harness-sub") as sub:
        await sub.subscribe("nzd/v1/harness/+/+/telemetry", qos=1)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as pub:
            await pub.publish(topic, encode(reading), qos=1)
        async with asyncio.timeout(10):
            message = await anext(aiter(sub.messages))
    where = parse_topic(str(message.topic))
    assert isinstance(message.payload, bytes)
    received = decode(message.payload, Telemetry)
    assert received == reading

    fields = ",".join(f"{k}={v!r}" for k, v in received.values.items())
    line = (f"{received.kind.value},district={where.district},site={where.site},"
            f"device={received.device} {fields},seq={received.seq}i {received.ts}")
    async with httpx.AsyncClient(base_url=influxdb.url, timeout=10) as http:
        (await http.post("/query", params={"q": "CREATE DATABASE harness"})).raise_for_status()
        r = await http.post("/write", params={"db": "harness", "precision": "ms"}, content=line)
        assert r.status_code == 204, r.text
        r = await http.get("/query", params={
            "db": "harness", "epoch": "ms",
            "q": "SELECT active_power_w, energy_import_wh, seq FROM electricity_meter "
                 "WHERE site = 'tintoria' AND device = 'main-meter'"})
    series = r.json()["results"][0]["series"][0]
    assert series["columns"] == ["time", "active_power_w", "energy_import_wh", "seq"]
    assert series["values"] == [[reading.ts, -1234.5, 98_765_432.0, 42]]


def test_a_killed_broker_restarts_with_what_it_had_saved() -> None:
    """The broker writes its data folder (as the mosquitto user when started as root)."""
    import paho.mqtt.publish as single
    import paho.mqtt.subscribe as subscribe

    broker = MosquittoServer(extra=["autosave_interval 1"]).start()
    try:
        single.single("harness/retained", b"kept", qos=1, retain=True, hostname=broker.host, port=broker.port)
        deadline = time.monotonic() + 10
        while not (broker.workdir / "data" / "mosquitto.db").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # one more save after the message
        broker.kill()
        broker.start()
        message = subscribe.simple("harness/retained", hostname=broker.host, port=broker.port, msg_count=1)
        assert message.payload == b"kept"
    finally:
        broker.close()
