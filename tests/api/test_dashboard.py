"""The dashboard in Debian's Chromium (Playwright): login, a live value change, history, public view."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiomqtt
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from nzd.messages import DeviceKind, DeviceState, GatewayState, GatewayStatus, Quality, Telemetry, encode
from nzd.topics import status_topic, telemetry_topic
from tests.api.conftest import DISTRICT, SITE_A, ApiServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser: Browser) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}")
            if "/api/v1/live" not in req.url else None)
    return page, errors


def _publish(server: ApiServer, power_w: float, quality: dict[str, Quality] | None = None) -> None:
    async def go() -> None:
        async with aiomqtt.Client(server.mosquitto.host, server.mosquitto.port) as client:
            now_ms = int(time.time() * 1000)
            status = GatewayStatus(gateway="gw-rossi", state=GatewayState.ONLINE, ts=now_ms, devices={
                "main-meter": DeviceState(online=True, last_read_ts=now_ms, headline=["active_power_w"]),
                "pv-inverter": DeviceState(online=False, errors=3, detail="Modbus timeout")})
            await client.publish(status_topic(district=DISTRICT, site=SITE_A, gateway="gw-rossi"),
                                 encode(status), qos=1, retain=True)
            reading = Telemetry(ts=int(time.time() * 1000), seq=99, device="main-meter",
                                kind=DeviceKind.ELECTRICITY_METER,
                                # raw values first: the row shows what the profile's headline names
                                values={"voltage_l1_v": 231.0, "current_l1_a": 12.0, "frequency_hz": 50.0,
                                        "active_power_w": power_w},
                                quality=quality or {})
            await client.publish(telemetry_topic(district=DISTRICT, site=SITE_A, device="main-meter"),
                                 encode(reading), qos=1)
    # Playwright's sync API runs its own event loop in this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result()


def test_site_manager_logs_in_sees_a_live_value_change_and_opens_history(
        api_server: ApiServer, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(browser)
    page.goto(api_server.url + "/")
    expect(page.locator("#user-label")).to_have_text("public view")
    page.click("#login-button")
    page.fill("#login-username", api_server.manager_a.name)
    page.fill("#login-password", api_server.manager_a.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_have_text("rossi · site manager")
    expect(page.locator("#live-state")).to_have_text("● live")
    # A site manager sees their own site only.
    expect(page.locator("#site-cards > .card")).to_have_count(1)
    expect(page.locator(f"#site-{SITE_A} h3")).to_have_text("Tintoria Rossi")
    grid = page.locator(f"#flow-{SITE_A}-grid")
    expect(grid).not_to_have_text("123.5 kW")
    _publish(api_server, 123_456.0)
    expect(grid).to_have_text("123.5 kW")
    # the headline quantity in kW, as the meter shows it
    expect(page.locator(f"#val-{SITE_A}-main-meter-active_power_w b")).to_have_text("123.5 kW")
    expect(page.locator(f"#val-{SITE_A}-main-meter-voltage_l1_v")).to_have_count(0)
    # the API hands the headline to the site's manager, for their own site only
    with api_server.client(api_server.manager_a) as c:
        devices = [g["status"]["devices"] for g in c.get(f"/api/v1/sites/{SITE_A}/status").json()["gateways"]]
        assert {"main-meter": ["active_power_w"]}.items() <= {
            d: st.get("headline") for ds in devices for d, st in ds.items()}.items()
        assert c.get("/api/v1/sites/logistica-prato/status").status_code == 403
    # The gateway's status arrived with the reading: the PV inverter is shown as offline.
    expect(page.locator(f"#dev-{SITE_A}-pv-inverter .dot.bad")).to_have_count(1)
    expect(page.locator(f"#dev-{SITE_A}-main-meter .dot.ok")).to_have_count(1)
    # A meter silent for longer than the lookback says since when.
    expect(page.locator(f"#dev-{SITE_A}-spare-meter .flagged")).to_contain_text("silent since")
    expect(page.locator(f"#dev-{SITE_A}-main-meter")).not_to_contain_text("silent since")
    expect(page.locator("#tile-shared .value")).not_to_have_text("–")
    # A value the gateway flagged (clamped to the meter's range) is marked as such.
    _publish(api_server, 150_000.0, quality={"active_power_w": Quality.OUT_OF_RANGE})
    flagged = page.locator(f"#val-{SITE_A}-main-meter-active_power_w")
    expect(flagged).to_have_class("flagged")
    expect(flagged).to_have_attribute("title", "not good: out_of_range")
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

    page.click("#tabs [data-view=history]")
    expect(page.locator("#history-title")).to_contain_text("Tintoria Rossi")
    expect(page.locator("#history-chart path[data-series=main-meter]")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "dashboard-history.png"), full_page=True)

    page.click("#tabs [data-view=alerts]")
    expect(page.locator("#alerts-table")).to_contain_text("night flow 2.1 m3/h")
    expect(page.locator("#alerts-table")).not_to_contain_text("logistica-prato")
    assert errors == []
    page.close()


def test_the_public_view_shows_district_totals_and_no_firm(api_server: ApiServer, browser: Browser) -> None:
    page, errors = _page(browser)
    page.goto(api_server.url + "/")
    expect(page.locator("#live-state")).to_have_text("● live")
    expect(page.locator(".public-note")).to_contain_text("district totals only")
    expect(page.locator("#site-cards > .card")).to_have_count(0)
    expect(page.locator("#tabs [data-view=history]")).to_be_hidden()
    expect(page.locator("#flow-district-grid")).to_contain_text("kW")
    expect(page.locator("#flow-district-water")).to_have_text("–")  # one firm's water is not a total
    page.screenshot(path=str(ARTIFACTS / "dashboard-public.png"), full_page=True)
    assert errors == []
    page.close()


def test_operator_sees_the_plan_against_actuals_and_sends_a_manual_setpoint(
        api_server: ApiServer, browser: Browser) -> None:
    page, errors = _page(browser)
    page.goto(api_server.url + "/")
    page.click("#login-button")
    page.fill("#login-username", api_server.operator.name)
    page.fill("#login-password", api_server.operator.password)
    page.click("#login-submit")
    expect(page.locator("#site-cards > .card")).to_have_count(4)
    # Each firm's KPI line says how much of today its readings cover.
    expect(page.locator("#kpis-tintoria-rossi")).to_contain_text("coverage")
    page.click("#tabs [data-view=plan]")
    page.select_option("#plan-site", "depuratore")
    expect(page.locator("#plan-meta")).to_contain_text("plan plan-test")
    expect(page.locator("#plan-breaches")).to_contain_text("connection limit in 2 steps")
    expect(page.locator("#plan-chart path[data-series='planned import']")).to_have_count(1)
    expect(page.locator("#plan-chart path[data-series='actual main-meter']")).to_have_count(1)
    expect(page.locator("#plan-targets")).to_contain_text("community-battery")
    page.fill("#manual-value", "-25000")
    page.click("#manual-form button[type=submit]")
    expect(page.locator("#manual-result")).to_contain_text("sent setpoint")
    expect(page.locator("#plan-acks")).to_contain_text("manual")
    page.screenshot(path=str(ARTIFACTS / "dashboard-plan.png"), full_page=True)
    assert errors == []
    page.close()
