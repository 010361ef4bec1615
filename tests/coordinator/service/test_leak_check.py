"""The running coordinator checks for leaks: flow history in SQLite, alerts through the real Mosquitto."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiomqtt

from coordinator.service import CoordinatorService
from nzd.messages import Alert, decode
from nzd.store import EventKind
from nzd.store.sqlite import SqliteStore
from nzd.topics import TopicKind, alert_topic, site_filter
from tests.coordinator.service.helpers import FixedPlanner, eventually, running, settings_for
from tests.coordinator.water.months import local_s, quiet_month, simulator_month
from tests.coordinator.water.test_leaks import STEP_S, district, write_flow
from tests.harness import MosquittoServer


def _metric(service: CoordinatorService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_the_service_publishes_an_alert_for_a_night_leak_in_the_store(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    name = f"svc-leak-{uuid.uuid4().hex[:8]}"
    store = SqliteStore(path=tmp_path / "nzd.sqlite")
    await store.open()
    try:
        # 16 days of the simulator's plant; from 23:30 on day 14 a 1.5 m3/h leak never stops.
        t, flow = simulator_month(days=16, step_s=STEP_S, leak_m3h=1.5, leak_from_s=local_s(14, 23.5))
        await write_flow(store, district=name, device="intake-public", t=t, flow=flow)
        tq, fq = quiet_month(days=16, step_s=STEP_S)
        await write_flow(store, district=name, device="intake-recycled", t=tq, flow=fq)
        settings = settings_for(mosquitto.url, leak_check_interval_s=600.0, leak_bucket_s=STEP_S,
                                history_days=0)
        # The morning of day 16, after two leaking nights.
        service = CoordinatorService(settings=settings, district=district(name), planner=FixedPlanner({}),
                                     store=store, wall_clock_s=lambda: local_s(16, 7))
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier=f"{name}-sub") as sub:
            await sub.subscribe(site_filter(TopicKind.ALERT, district=name), qos=1)
            async with running(service):
                await eventually(
                    lambda: _metric(service, "nzd_coordinator_leak_checks_total", result="ok") >= 1,
                    what="a leak-check round")
                async with asyncio.timeout(10):  # guards against hanging only
                    message = await anext(aiter(sub.messages))
        assert isinstance(message.payload, bytes)
        alert = decode(message.payload, Alert)
        assert str(message.topic) == alert_topic(district=name, site="tintoria", alert_id=alert.id)
        assert alert.kind == "night_flow_leak" and alert.device == "intake-public" and alert.active
        assert _metric(service, "nzd_coordinator_water_alerts_total", change="raised") == 1
        stored = await store.events(EventKind.ALERT, district=name, site="tintoria")
        assert [e.key for e in stored] == [alert.id]
    finally:
        await store.close()


async def test_a_store_that_fails_is_counted_and_the_service_keeps_planning(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    name = f"svc-leak-{uuid.uuid4().hex[:8]}"
    store = SqliteStore(path=tmp_path / "nzd.sqlite")  # never opened: every read fails
    settings = settings_for(mosquitto.url, leak_check_interval_s=600.0, history_days=0)
    service = CoordinatorService(settings=settings, district=district(name), planner=FixedPlanner({}),
                                 store=store)
    async with running(service):
        await eventually(lambda: _metric(service, "nzd_coordinator_leak_checks_total", result="partial")
                         + _metric(service, "nzd_coordinator_leak_checks_total", result="failed") >= 1,
                         what="a failed leak-check round")
        first = await service.wait_for_plan()
        await service.plan_and_dispatch()
        assert service.last_plan is not first  # still planning
    assert _metric(service, "nzd_coordinator_water_alerts_total", change="raised") == 0
