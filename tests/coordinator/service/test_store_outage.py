"""Plans, setpoints and acks wait for an InfluxDB that is down and land once it is back."""

from __future__ import annotations

import asyncio

import pytest

from coordinator.service import CoordinatorService
from nzd.store import EventKind, InfluxStore
from tests.coordinator.service.helpers import (
    FixedPlanner,
    eventually,
    running,
    scripted_gateway,
    settings_for,
    small_district,
    unique,
)


@pytest.mark.timeout(90)
async def test_events_survive_an_influxdb_outage(mosquitto, influx_factory):
    influx = influx_factory()
    name = unique("d")
    # A short retry budget in the HTTP layer, so that the coordinator's own queue does the waiting.
    store = InfluxStore(url=influx.url, database="coord_outage", retry_total_s=0.5, timeout_s=2)
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=FixedPlanner(), store=store, open_store=True)
    try:
        async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
            await service.wait_for_plan()
            await service.drain_events()
            await asyncio.to_thread(influx.stop)
            record = await service.plan_and_dispatch()  # dispatch does not wait for the store
            await eventually(lambda: len(gw.received) == 4, what="the second plan's setpoints")
            await eventually(lambda: (service.metrics.registry.get_sample_value(
                "nzd_coordinator_store_errors_total", {"reason": "unavailable"}) or 0) >= 1,
                what="the store found down")
            await asyncio.to_thread(influx.start)
            await asyncio.wait_for(service.drain_events(), timeout=60)
            plans = await store.events(EventKind.PLAN, district=name)
            setpoints = await store.events(EventKind.SETPOINT, district=name)
    finally:
        await store.close()
    assert record.plan_id in {p.key for p in plans} and len(plans) == 2
    assert len(setpoints) == 4
