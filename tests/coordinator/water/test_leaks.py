"""check_leaks end to end: simulated flow in the SQLite store, alerts through the real Mosquitto."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from coordinator.water import LeakSettings, check_leaks
from nzd.config import DistrictConfig, SiteConfig, WaterConfig, WaterMeterConfig
from nzd.messages import Alert, AlertSeverity, DeviceKind, decode
from nzd.store import EventKind, Reading
from nzd.store.influx import InfluxStore
from nzd.store.sqlite import SqliteStore
from nzd.topics import TopicKind, alert_topic, parse_topic, site_filter
from tests.coordinator.water.months import ROME, local_s, quiet_month, simulator_month
from tests.harness import MosquittoServer, free_port

STEP_S = 300  # 5-minute readings keep the store small; the detector reads 5-minute means
SETTINGS = LeakSettings(bucket_s=STEP_S)
LEAK_DAY = 14


def district(name: str) -> DistrictConfig:
    return DistrictConfig(district=name, timezone=ROME, sites=[SiteConfig(
        id="tintoria", name="Tintoria", water=WaterConfig(meters=[
            WaterMeterConfig(device="intake-public", role="intake", source="public"),
            WaterMeterConfig(device="intake-recycled", role="intake", source="recycled",
                             quiet_start="22:30", quiet_end="05:30", continuous_flow_hours=24),
        ]))])


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(path=tmp_path / "nzd.sqlite")
    await s.open()
    yield s
    await s.close()


async def write_flow(store: SqliteStore, *, district: str, device: str, t: np.ndarray,
                     flow: np.ndarray) -> None:
    readings = [Reading(district=district, site="tintoria", device=device, kind=DeviceKind.WATER_FLOW_METER,
                        ts_ms=int(ts * 1000), seq=i, values={"water_flow_m3h": float(f)})
                for i, (ts, f) in enumerate(zip(t, flow, strict=True))]
    for i in range(0, len(readings), 2000):
        await store.write(readings[i:i + 2000])


async def mornings(store: SqliteStore, mqtt: aiomqtt.Client, config: DistrictConfig,
                   days: range) -> dict[int, list[Alert]]:
    """Run the check at 07:00 every morning, as the coordinator's periodic task would."""
    raised: dict[int, list[Alert]] = {}
    for day in days:
        report = await check_leaks(store=store, mqtt=mqtt, district=config,
                                   now_ms=int(local_s(day, 7) * 1000), settings=SETTINGS)
        assert report.errors == []
        assert report.meters_checked == 2
        raised[day] = report.raised
    return raised


async def collect(sub: aiomqtt.Client, n: int) -> list[aiomqtt.Message]:
    out: list[aiomqtt.Message] = []
    async with asyncio.timeout(10):
        async for message in sub.messages:
            out.append(message)
            if len(out) == n:
                return out
    return out


async def test_a_night_leak_raises_one_alert_on_mqtt_and_in_the_store(
    mosquitto: MosquittoServer, store: SqliteStore
) -> None:
    name = f"leak-{uuid.uuid4().hex[:8]}"
    config = district(name)
    t, flow = simulator_month(days=20, step_s=STEP_S, leak_m3h=1.5, leak_from_s=local_s(LEAK_DAY, 23.5))
    await write_flow(store, district=name, device="intake-public", t=t, flow=flow)
    tq, fq = quiet_month(days=20, step_s=STEP_S)
    await write_flow(store, district=name, device="intake-recycled", t=tq, flow=fq)
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier=f"{name}-sub") as sub:
        await sub.subscribe(site_filter(TopicKind.ALERT, district=name), qos=1)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as mqtt:
            raised = await mornings(store, mqtt, config, range(9, 20))
        messages = await collect(sub, 1)

    days = [d for d, alerts in raised.items() if alerts]
    # The leak starts on the night of day 14; the morning after day 14 or 15 has the alert.
    assert days == [LEAK_DAY + 1] or days == [LEAK_DAY + 2], raised
    (alert,) = raised[days[0]]
    assert alert.kind == "night_flow_leak" and alert.device == "intake-public"
    assert alert.site == "tintoria" and alert.active and alert.severity is AlertSeverity.WARNING
    assert alert.value is not None and alert.threshold is not None and alert.value > alert.threshold
    assert "intake-public" in alert.message and "m3/h" in alert.message

    (message,) = messages
    assert str(message.topic) == alert_topic(district=name, site="tintoria", alert_id=alert.id)
    assert parse_topic(str(message.topic)).kind is TopicKind.ALERT
    assert message.qos == 1
    assert isinstance(message.payload, bytes)
    assert decode(message.payload, Alert) == alert

    stored = await store.events(EventKind.ALERT, district=name, site="tintoria")
    assert [(e.key, e.document["active"]) for e in stored] == [(alert.id, True)]
    assert Alert.model_validate(stored[0].document) == alert


async def test_a_clean_month_raises_no_alert_and_a_repaired_leak_is_cleared(
    mosquitto: MosquittoServer, store: SqliteStore
) -> None:
    name = f"leak-{uuid.uuid4().hex[:8]}"
    config = district(name)
    t, flow = simulator_month(days=30, step_s=STEP_S, seed=3)
    # A leak on the recycled line from 02:00 of day 20 to 09:00 of day 22: flow never stops for 31 h.
    tq, fq = quiet_month(days=30, step_s=STEP_S)
    fq = fq + np.where((tq >= local_s(20, 2)) & (tq < local_s(22, 9)), 0.4, 0.0)
    await write_flow(store, district=name, device="intake-public", t=t, flow=flow)
    await write_flow(store, district=name, device="intake-recycled", t=tq, flow=fq)
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as mqtt:
        raised = await mornings(store, mqtt, config, range(9, 31))
        public = [a for alerts in raised.values() for a in alerts if a.device == "intake-public"]
        assert public == []  # the clean month of the simulator's plant
        recycled = {d: [a.kind for a in alerts] for d, alerts in raised.items() if alerts}
        # Night flow and 24 h of unbroken flow are both seen on the morning after the first night.
        assert recycled == {21: ["night_flow_leak", "continuous_flow"]}, recycled

    stored = await store.events(EventKind.ALERT, district=name, site="tintoria")
    latest: dict[str, bool] = {}
    for event in sorted(stored, key=lambda e: e.ts_ms):
        latest[event.key] = event.document["active"]
    assert sorted(latest.values()) == [False, False]  # both cleared once the leak was repaired


async def test_a_store_that_is_down_is_reported_not_raised(mosquitto: MosquittoServer) -> None:
    down = InfluxStore(url=f"http://127.0.0.1:{free_port()}", create_database=False, retry_total_s=0.3)
    await down.open()
    try:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as mqtt:
            report = await check_leaks(store=down, mqtt=mqtt, district=district("leak-down"),
                                       now_ms=int(local_s(9, 7) * 1000))
    finally:
        await down.close()
    assert report.meters_checked == 0 and report.raised == []
    assert len(report.errors) == 1 and report.errors[0].startswith("tintoria: cannot read alerts")
