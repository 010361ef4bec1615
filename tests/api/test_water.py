"""Water routes and the water page (issue 9): intake by source, reuse ratio and a leak alert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.api.conftest import SITE_A, ApiServer
from tests.api.test_dashboard import ARTIFACTS, CHROMIUM_ARGS


def test_site_water_by_source_and_reuse(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        report = c.get(f"/api/v1/sites/{SITE_A}/water").json()
        assert report["severity"] == "normal" and report["period"] == "day"
        t = report["totals"]
        # 96 quarter hours: 2 m3 public, 3 m3 recycled, 4 m3 discharged each.
        assert (t["intake_public_m3"], t["intake_recycled_m3"], t["discharge_m3"]) == (192.0, 288.0, 384.0)
        assert t["reuse_ratio"] == 0.6
        assert any(r["allowance_m3"] == 300.0 for r in report["rows"])
        assert c.get("/api/v1/sites/lanificio-bianchi/water").status_code == 403
    with api_server.client(api_server.operator) as c:
        r = c.get("/api/v1/sites/lanificio-bianchi/water")
        assert r.status_code == 404 and "no water meters" in r.json()["detail"]
        district = c.get("/api/v1/district/water").json()
        assert district["scope"] == "district" and district["totals"]["reuse_ratio"] == 0.6
        assert all(r["allowance_m3"] is None for r in district["rows"])
    with api_server.client() as public:
        # Only one firm has water meters: its "district total" would be that firm's data.
        r = public.get("/api/v1/district/water")
        assert r.status_code == 403 and "single firm" in r.json()["detail"]
        assert public.get(f"/api/v1/sites/{SITE_A}/water").status_code == 403


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_water_page_shows_intake_by_source_reuse_and_an_alert(api_server: ApiServer,
                                                                  browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(api_server.url + "/")
    page.click("#login-button")
    page.fill("#login-username", api_server.manager_a.name)
    page.fill("#login-password", api_server.manager_a.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_have_text("rossi · site manager")
    page.click("#tabs [data-view=water]")
    expect(page.locator("#water-reuse .value")).to_have_text("60 %")
    expect(page.locator("#water-source-public .value")).to_have_text("192 m³")
    expect(page.locator("#water-source-recycled .value")).to_have_text("288 m³")
    expect(page.locator("#water-alerts")).to_contain_text("night flow 2.1 m3/h above baseline")
    expect(page.locator("#water-chart rect")).not_to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "dashboard-water.png"), full_page=True)
    assert errors == []
    page.close()
