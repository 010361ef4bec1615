"""Routes against the real InfluxDB store and Mosquitto: history, setpoints, alerts, errors, operations."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import aiomqtt
import httpx

from api import create_app
from api.settings import ApiSettings
from nzd.messages import DeviceKind, Quality, Setpoint, SetpointSource, Telemetry, decode
from nzd.topics import TopicKind, site_filter
from tests.api.conftest import DISTRICT, DISTRICT_FILE, SITE_A, ApiServer, serve
from tests.api.test_latest import publish
from tests.harness import free_ports


def test_history_aggregates_per_interval(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        r = c.get(f"/api/v1/sites/{SITE_A}/history",
                  params={"quantities": "active_power_w", "interval": "1h", "aggregation": "max",
                          "device": "main-meter"})
        assert r.status_code == 200
        [series] = r.json()
        assert series["device"] == "main-meter" and series["kind"] == "electricity_meter"
        assert 23 <= len(series["times_ms"]) <= 25
        times = series["times_ms"]
        assert all(b - a == 3_600_000 for a, b in itertools.pairwise(times))


def test_latest_says_which_values_are_not_good_and_what_was_replayed(api_server: ApiServer) -> None:
    now_ms = int(time.time() * 1000)
    publish(api_server.mosquitto, SITE_A, [
        Telemetry(ts=now_ms - 2000, seq=40, device="dyeing-meter", kind=DeviceKind.ELECTRICITY_METER,
                  values={"active_power_w": 61_000.0, "energy_import_wh": 5.0e6}),
        Telemetry(ts=now_ms - 1000, seq=41, device="dyeing-meter", kind=DeviceKind.ELECTRICITY_METER,
                  values={"active_power_w": 60_000.0}, replayed=True,
                  quality={"energy_import_wh": Quality.COMM_ERROR}),
    ])
    with api_server.client(api_server.manager_a) as c:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = c.get(f"/api/v1/sites/{SITE_A}/latest", params={"device": "dyeing-meter"}).json()
            if rows and rows[0]["seq"] == 41:
                break
            time.sleep(0.01)
        [reading] = rows
    assert reading["seq"] == 41 and reading["replayed"] is True and reading["old"] is False
    assert reading["quality"] == {"energy_import_wh": "comm_error"}
    assert reading["values"] == {"active_power_w": 60_000.0, "energy_import_wh": 5.0e6}


def test_bad_history_input_gets_a_clear_problem(api_server: ApiServer) -> None:
    cases = {
        (("quantities", "watts"),): "query.quantities: unknown quantity 'watts'",
        (("quantities", "active_power_w"), ("interval", "5 min")): "is not a duration like",
        (("quantities", "active_power_w"), ("from", "2026-01-01T00:00:00")): "needs a time zone",
        (("quantities", "active_power_w"), ("interval", "1s"), ("from", "2026-01-01T00:00:00Z"),
         ("to", "2026-03-01T00:00:00Z")): "more than 20000 points",
        (): "quantities",
    }
    with api_server.client(api_server.operator) as c:
        for params, expected in cases.items():
            r = c.get(f"/api/v1/sites/{SITE_A}/history", params=list(params))
            assert r.status_code == 422, (params, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            body = r.json()
            assert body["title"] == "Invalid request" and expected in body["detail"], body


async def test_operator_sends_a_manual_setpoint_over_mqtt(api_server: ApiServer) -> None:
    body = {"asset": "community-battery", "quantity": "battery_power_setpoint_w", "value": -50_000,
            "valid_minutes": 30}
    async with aiomqtt.Client(api_server.mosquitto.host, api_server.mosquitto.port) as mqtt:
        await mqtt.subscribe(site_filter(TopicKind.SETPOINT, district=DISTRICT, site="depuratore"), qos=1)
        r = await asyncio.to_thread(_post, api_server, "/api/v1/sites/depuratore/setpoints", body)
        assert r[0] == 202, r
        async for message in mqtt.messages:
            sp = decode(bytes(message.payload), Setpoint)  # type: ignore[arg-type]
            break
    assert sp.source is SetpointSource.MANUAL and sp.value == -50_000 and sp.asset == "community-battery"
    assert sp.valid_until - sp.valid_from == 30 * 60_000
    with api_server.client(api_server.manager_a) as c:
        assert c.post("/api/v1/sites/depuratore/setpoints", json=body).status_code == 403
    with api_server.client(api_server.operator) as c:
        stored = c.get("/api/v1/sites/depuratore/setpoints").json()
        assert any(e["document"]["id"] == sp.id and e["document"]["user"] == "operator" for e in stored)
        bad = c.post("/api/v1/sites/depuratore/setpoints", json={**body, "asset": "nothing"})
        assert bad.status_code == 422
        assert "controllable: community-battery, recycled-pump" in bad.json()["detail"]


def _post(server: ApiServer, path: str, body: dict[str, object]) -> tuple[int, str]:
    with server.client(server.operator) as c:
        r = c.post(path, json=body)
        return r.status_code, r.text


def test_a_site_manager_acknowledges_an_alert_of_their_site(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        r = c.post(f"/api/v1/sites/{SITE_A}/alerts/leak-rossi-1/ack", json={"comment": "valve closed"})
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "rossi"
        alerts = c.get(f"/api/v1/sites/{SITE_A}/alerts").json()
        [alert] = [a for a in alerts if a["alert"]["id"] == "leak-rossi-1"]
        assert alert["acknowledged_by"] == "rossi" and alert["alert"]["active"] is True
        missing = c.post(f"/api/v1/sites/{SITE_A}/alerts/no-such-alert/ack")
        assert missing.status_code == 404
        assert c.post("/api/v1/sites/logistica-prato/alerts/leak-logistica-1/ack").status_code == 403
    with api_server.client() as public:
        assert public.post(f"/api/v1/sites/{SITE_A}/alerts/leak-rossi-1/ack").status_code == 403


def test_health_metrics_and_unknown_routes(api_server: ApiServer) -> None:
    with api_server.client() as c:
        health = c.get("/healthz").json()
        assert health == {"status": "ok", "store": True, "mqtt": True, "live_clients": health["live_clients"]}
        metrics = c.get("/metrics").text
        assert "nzd_api_requests_total" in metrics and 'route="/healthz"' in metrics
        r = c.get("/api/v1/nothing")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "no route GET /api/v1/nothing"
        page = c.get("/")
        assert page.status_code == 200 and "<title>nzd" in page.text
        assert "http://" not in page.text and "https://" not in page.text  # nothing from the internet
        assert json.loads(c.get("/openapi.json").text)["info"]["title"] == "nzd API"


def test_without_the_store_the_api_serves_503_problems_and_the_registry() -> None:
    influx_port, mqtt_port = free_ports(2)
    settings = ApiSettings(influx_url=f"http://127.0.0.1:{influx_port}",
                           mqtt_url=f"mqtt://127.0.0.1:{mqtt_port}", district_file=DISTRICT_FILE,
                           store_open_wait_s=0.2, store_timeout_s=0.5)
    server, thread, url = serve(settings)
    try:
        health = httpx.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["store"] is False
        r = httpx.get(f"{url}/api/v1/district/flows", timeout=10)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["detail"] == "the telemetry store is unavailable; retry later"
        assert httpx.get(f"{url}/api/v1/district", timeout=10).json()["site_count"] == 4
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_cors_is_configurable() -> None:
    settings = ApiSettings(district_file=DISTRICT_FILE, cors_origins=["http://intranet.example"])
    transport = httpx.ASGITransport(app=create_app(settings))

    async def preflight() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
            return await c.options("/api/v1/district", headers={
                "Origin": "http://intranet.example", "Access-Control-Request-Method": "GET"})
    r = asyncio.run(preflight())
    assert r.headers["access-control-allow-origin"] == "http://intranet.example"
