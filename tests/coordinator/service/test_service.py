"""The coordinator service against a real Mosquitto, with a scripted gateway answering setpoints."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from coordinator.service import CoordinatorService
from tests.coordinator.service.helpers import (
    FixedPlanner,
    eventually,
    running,
    scripted_gateway,
    settings_for,
    small_district,
    unique,
)


def _metric(service: CoordinatorService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_setpoints_go_out_with_their_validity_and_applied_acks_are_counted(mosquitto):
    name = unique("d")
    planner = FixedPlanner()
    settings = settings_for(mosquitto.url, planning_interval_s=60.0, validity_intervals=2.0)
    service = CoordinatorService(settings=settings, district=small_district(name), planner=planner)
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        await eventually(lambda: _metric(service, "nzd_coordinator_acks_total", result="applied") >= 2,
                         what="both setpoints acknowledged")
        assert sorted((site, sp.asset, sp.value) for site, sp in gw.received) == [
            ("a", "bat-a", 20_000.0), ("b", "load-b", 10_000.0)]
        for _, sp in gw.received:
            assert sp.valid_from % 60_000 == 0  # the start of the planning interval
            assert sp.valid_until - sp.valid_from == 120_000  # two planning intervals
            assert sp.valid_from <= sp.issued_at < sp.valid_until
            assert sp.plan_id == service.last_plan.plan_id  # type: ignore[union-attr]
        assert service.acks.excluded() == frozenset()
        assert _metric(service, "nzd_coordinator_setpoints_sent_total") == 2
        assert _metric(service, "nzd_coordinator_plans_total", status="optimal") == 1
        assert _metric(service, "nzd_coordinator_last_plan_status", status="optimal") == 1


async def test_ids_increase_per_asset_from_plan_to_plan(mosquitto):
    name = unique("d")
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=FixedPlanner())
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        first = await service.wait_for_plan()
        await service.plan_and_dispatch()
        await service.plan_and_dispatch()
        await eventually(lambda: len(gw.values_for("bat-a")) == 3, what="three battery setpoints")
        ids = [sp.id for _, sp in gw.received if sp.asset == "bat-a"]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert first.setpoints_sent == 2


async def test_an_asset_that_rejects_is_held_at_its_fallback_in_the_next_plan(mosquitto):
    name = unique("d")
    planner = FixedPlanner()
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=planner)
    async with scripted_gateway(mosquitto.host, mosquitto.port, name, bat_a="reject") as gw, running(service):
        await service.wait_for_plan()
        await eventually(lambda: _metric(service, "nzd_coordinator_acks_total", result="rejected") == 1,
                         what="the rejection")
        assert {k.asset for k in service.acks.excluded()} == {"bat-a"}
        gw.behaviour["bat-a"] = "apply"
        await service.plan_and_dispatch()
        # The planner was told, and the battery got its fallback (idle) whatever was planned.
        assert {k.asset for k in planner.requests[-1].excluded} == {"bat-a"}
        await eventually(lambda: len(gw.received) == 4, what="the second plan's setpoints")
        assert gw.values_for("bat-a") == [20_000.0, 0.0]
        assert gw.values_for("load-b") == [10_000.0, 10_000.0]
        # Applying that fallback setpoint brings it back into the plan after.
        await eventually(lambda: service.acks.excluded() == frozenset(), what="the battery included again")
        await service.plan_and_dispatch()
        assert planner.requests[-1].excluded == frozenset()
        await eventually(lambda: len(gw.values_for("bat-a")) == 3, what="the third battery setpoint")
        assert gw.values_for("bat-a")[-1] == 20_000.0


async def test_an_asset_that_does_not_answer_times_out_and_is_excluded(mosquitto):
    name = unique("d")
    planner = FixedPlanner()
    settings = settings_for(mosquitto.url, ack_timeout_s=0.5)
    service = CoordinatorService(settings=settings, district=small_district(name), planner=planner)
    async with scripted_gateway(mosquitto.host, mosquitto.port, name, load_b="silent"), running(service):
        await service.wait_for_plan()
        await eventually(lambda: _metric(service, "nzd_coordinator_acks_total", result="no_answer") == 1,
                         what="the missing answer")
        assert _metric(service, "nzd_coordinator_acks_total", result="applied") == 1
        assert {(k.site, k.asset) for k in service.acks.excluded()} == {("b", "load-b")}
        await service.plan_and_dispatch()
        assert {k.asset for k in planner.requests[-1].excluded} == {"load-b"}


async def test_live_telemetry_sets_the_state_the_planner_starts_from(mosquitto):
    name = unique("d")
    planner = FixedPlanner()
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=planner)
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        await service.wait_for_plan()
        assert "a/battery" in planner.requests[0].snapshot.stale
        await gw.telemetry(site="a", device="bat-inv", kind="battery",
                           values={"battery_soc_pct": 83.5, "battery_power_w": -1000.0})
        await eventually(lambda: _metric(service, "nzd_coordinator_messages_total", kind="telemetry") == 1,
                         what="the reading taken")
        await service.plan_and_dispatch()
        request = planner.requests[-1]
        assert request.snapshot.battery_soc_pct == {("a", "battery"): 83.5}
        assert request.district.site("a").batteries[0].soc_initial_pct == 83.5


async def test_bad_payloads_are_counted_and_the_service_carries_on(mosquitto):
    import aiomqtt

    name = unique("d")
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=FixedPlanner())
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        await service.wait_for_plan()
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
            await client.publish(f"nzd/v1/{name}/a/ack/bat-a", b"{not json", qos=1)
            await client.publish(f"nzd/v1/{name}/a/bat-inv/telemetry", b'{"ts": 1}', qos=1)
            await client.publish(f"nzd/v1/{name}/a/gw/status", b"[]", qos=1)
        await eventually(lambda: sum(_metric(service, "nzd_coordinator_bad_messages_total", kind=k)
                                     for k in ("ack", "telemetry", "status")) == 3, what="three refusals")
        await service.plan_and_dispatch()
        await eventually(lambda: len(gw.values_for("bat-a")) == 2, what="dispatch after bad input")


async def test_health_and_metrics_endpoints(mosquitto):
    name = unique("d")
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=FixedPlanner())
    async with running(service):
        await service.wait_for_plan()
        base = f"http://127.0.0.1:{service.http.port}"
        async with httpx.AsyncClient(timeout=10) as http:
            health = await http.get(f"{base}/healthz")
            metrics = await http.get(f"{base}/metrics")
            missing = await http.get(f"{base}/nothing")
        assert health.status_code == 200
        assert health.json()["mqtt_connected"] is True
        assert health.json()["last_plan"]["status"] == "optimal"
        assert "nzd_coordinator_plans_total{status=\"optimal\"} 1.0" in metrics.text
        assert "nzd_coordinator_solve_seconds_count 1.0" in metrics.text
        assert missing.status_code == 404


async def test_a_failing_planner_still_yields_the_safe_plan(mosquitto):
    name = unique("d")

    def broken(_request: object) -> object:
        raise RuntimeError("solver exploded")

    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=broken)  # type: ignore[arg-type]
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        record = await service.wait_for_plan()
        assert record.status == "error"
        # The battery idles; the flexible load's safe mode is local, so it gets no setpoint.
        await eventually(lambda: len(gw.received) == 1, what="the safe setpoint")
        assert [(sp.asset, sp.value) for _, sp in gw.received] == [("bat-a", 0.0)]


@pytest.mark.timeout(60)
async def test_survives_a_broker_outage_and_reconnects(mosquitto_factory):
    broker = mosquitto_factory()
    name = unique("d")
    service = CoordinatorService(settings=settings_for(broker.url), district=small_district(name),
                                 planner=FixedPlanner())
    async with running(service):
        await service.wait_for_plan()
        broker.stop()
        await eventually(lambda: not service.mqtt.connected.is_set(), what="the connection lost")
        record = await service.plan_and_dispatch()
        assert record.setpoints_unsent == 2  # counted, not crashed
        ok, details = service.health()
        assert not ok and details["mqtt_connected"] is False
        broker.start()
        await eventually(lambda: service.mqtt.connected.is_set(), what="the reconnection")
        async with scripted_gateway(broker.host, broker.port, name) as gw:
            await service.plan_and_dispatch()
            await eventually(lambda: len(gw.received) == 2, what="setpoints after the outage")
        assert _metric(service, "nzd_coordinator_mqtt_reconnects_total") >= 1


async def test_plans_setpoints_and_acks_are_stored(mosquitto, tmp_path):
    from nzd.store import EventKind, SqliteStore

    name = unique("d")
    store = SqliteStore(path=tmp_path / "events.sqlite")
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=FixedPlanner(), store=store, open_store=True)
    try:
        async with scripted_gateway(mosquitto.host, mosquitto.port, name, load_b="reject"), running(service):
            record = await service.wait_for_plan()
            await eventually(lambda: _metric(service, "nzd_coordinator_acks_total", result="rejected") == 1,
                             what="the acknowledgements")
            await eventually(lambda: _metric(service, "nzd_coordinator_acks_total", result="applied") == 1,
                             what="the acknowledgements")
            await service.drain_events()
            plans = await store.events(EventKind.PLAN, district=name)
            setpoints = await store.events(EventKind.SETPOINT, district=name)
            acks = await store.events(EventKind.ACK, district=name)
    finally:
        await store.close()
    assert [p.key for p in plans] == [record.plan_id]
    assert plans[0].document["status"] == "optimal"
    assert plans[0].document["objective_eur"] == 1.0
    assert sorted((e.site, e.document["asset"], e.document["value"]) for e in setpoints) == [
        ("a", "bat-a", 20_000.0), ("b", "load-b", 10_000.0)]
    assert sorted((e.site, e.document["asset"], e.document["result"]) for e in acks) == [
        ("a", "bat-a", "applied"), ("b", "load-b", "rejected")]


async def test_the_health_endpoint_refuses_what_it_does_not_serve(mosquitto):
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(unique("d")),
                                 planner=FixedPlanner())
    async with running(service):
        await service.wait_for_plan()
        base = f"http://127.0.0.1:{service.http.port}"
        async with httpx.AsyncClient(timeout=10) as http:
            post = await http.post(f"{base}/healthz")
            garbage_reader, garbage_writer = await asyncio.open_connection("127.0.0.1", service.http.port)
            garbage_writer.write(b"\x00\x01 nonsense\r\n\r\n")
            await garbage_writer.drain()
            answer = await garbage_reader.read()
            garbage_writer.close()
            health = await http.get(f"{base}/healthz")
        assert post.status_code == 405
        assert answer.startswith(b"HTTP/1.1 405")
        assert health.status_code == 200  # still serving


async def test_assets_behind_an_offline_gateway_are_excluded_until_it_is_back(mosquitto):
    import time

    import aiomqtt

    from nzd.messages import DeviceState, GatewayState, GatewayStatus, encode
    from nzd.topics import status_topic

    name = unique("d")
    planner = FixedPlanner()
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=planner)

    async def status(state: GatewayState) -> None:
        msg = GatewayStatus(gateway="gw-a", state=state, ts=int(time.time() * 1000),
                            devices={"bat-inv": DeviceState(online=state is GatewayState.ONLINE)})
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
            await client.publish(status_topic(district=name, site="a", gateway="gw-a"), encode(msg), qos=1,
                                 retain=True)

    async with running(service):
        await service.wait_for_plan()
        await status(GatewayState.OFFLINE)
        await eventually(lambda: _metric(service, "nzd_coordinator_messages_total", kind="status") == 1,
                         what="the offline status")
        await service.plan_and_dispatch()
        assert {k.asset for k in planner.requests[-1].excluded} == {"bat-a"}
        await status(GatewayState.ONLINE)
        await eventually(lambda: _metric(service, "nzd_coordinator_messages_total", kind="status") == 2,
                         what="the online status")
        await service.plan_and_dispatch()
        assert planner.requests[-1].excluded == frozenset()


async def test_a_manual_setpoint_holds_its_asset_while_valid_and_the_plan_takes_over_after_it(mosquitto):
    import time

    import aiomqtt

    from nzd.messages import Setpoint, SetpointSource, encode
    from nzd.topics import setpoint_topic

    name = unique("d")
    planner = FixedPlanner()
    service = CoordinatorService(settings=settings_for(mosquitto.url), district=small_district(name),
                                 planner=planner)
    async with scripted_gateway(mosquitto.host, mosquitto.port, name) as gw, running(service):
        await service.wait_for_plan()
        now_ms = int(time.time() * 1000)
        manual = Setpoint(id=now_ms + 3_600_000, asset="bat-a", quantity="battery_power_setpoint_w",
                          value=-7_000.0, valid_from=now_ms, valid_until=now_ms + 2_000, issued_at=now_ms,
                          source=SetpointSource.MANUAL)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
            topic = setpoint_topic(district=name, site="a", asset="bat-a")
            await client.publish(topic, encode(manual), qos=1)
        await eventually(lambda: any(sp.source is SetpointSource.MANUAL for _, sp in gw.received),
                         what="the manual setpoint delivered")
        # Its own two plan setpoints come back to it too; the third is the manual one.
        await eventually(lambda: _metric(service, "nzd_coordinator_messages_total", kind="setpoint") == 3,
                         what="the coordinator saw it")
        await service.plan_and_dispatch()
        assert {k.asset for k in planner.requests[-1].excluded} == {"bat-a"}
        await eventually(lambda: len(gw.values_for("load-b")) == 2, what="the second plan's setpoints")
        plan_values = [sp.value for _, sp in gw.received
                       if sp.asset == "bat-a" and sp.source is SetpointSource.PLAN]
        assert plan_values == [20_000.0]  # the plan sent the battery nothing while the manual one held
        # Once it has ended, the plan takes over again: issued after the manual one, which is what a
        # gateway orders by (the manual id here is huge; ids only have to be unique).
        await eventually(lambda: time.time() * 1000 >= manual.valid_until, what="the manual setpoint's end")
        await service.plan_and_dispatch()
        await eventually(lambda: len(gw.values_for("bat-a")) == 3, what="the battery's plan setpoint")
        last = [sp for _, sp in gw.received if sp.asset == "bat-a"][-1]
        assert last.source is SetpointSource.PLAN and last.issued_at > manual.issued_at
        assert last.id != manual.id
