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
