"""Water routes and the water page (issue 9): intake by source, reuse ratio and a leak alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.api.conftest import SITE_A, ApiServer
from tests.api.test_dashboard import ARTIFACTS, CHROMIUM_ARGS


def test_site_water_by_source_and_reuse(api_server: ApiServer) -> None:
    severity_url = "/api/v1/district/water-severity"
    with api_server.client(api_server.operator) as c:
        assert c.put(severity_url, json={"water_severity": "normal"}).status_code == 200
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
        # Drought: the operator raises the level and every firm's allowance follows it.
        try:
            assert c.put(severity_url, json={"water_severity": "high"}).status_code == 200
            drought = c.get(f"/api/v1/sites/{SITE_A}/water").json()
            assert drought["severity"] == "high" and any(r["allowance_m3"] == 200.0 for r in drought["rows"])
        finally:
            assert c.put(severity_url, json={"water_severity": "normal"}).status_code == 200
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


def test_pushed_production_gives_water_intensity_per_day(api_server: ApiServer) -> None:
    tz = ZoneInfo("Europe/Rome")
    today = datetime.now(tz).date()
    yesterday = today - timedelta(days=1)
    with api_server.client(api_server.manager_a) as c:
        push = {"days": [{"day": str(yesterday), "output_units": 999.0},
                         {"day": str(today), "output_units": 800.0}]}
        r = c.put(f"/api/v1/sites/{SITE_A}/production", json=push)
        assert r.status_code == 200, r.text
        assert r.json()[0]["unit"] == "kg" and r.json()[0]["set_by"] == "rossi"
        # The ERP corrects yesterday: the newer figure replaces the older one.
        assert c.put(f"/api/v1/sites/{SITE_A}/production",
                     json={"days": [{"day": str(yesterday), "output_units": 1000.0}]}).status_code == 200
        days = c.get(f"/api/v1/sites/{SITE_A}/production",
                     params={"from": f"{yesterday}T00:00:00+01:00"}).json()
        assert [(d["day"], d["output_units"]) for d in days] == [(str(yesterday), 1000.0),
                                                                 (str(today), 800.0)]
        report = c.get(f"/api/v1/sites/{SITE_A}/water").json()
        assert report["production_unit"] == "kg"
        by_day = {datetime.fromtimestamp(row["period_start_ms"] / 1000, tz).date(): row
                  for row in report["rows"]}
        for day, output in ((yesterday, 1000.0), (today, 800.0)):
            row = by_day[day]
            assert row["output_units"] == output
            assert row["intensity_m3_per_unit"] == pytest.approx(row["intake_m3"] / output, abs=1e-4)
        known = [row for row in report["rows"] if row["output_units"] is not None]
        totals = report["totals"]
        assert totals["output_units"] == sum(row["output_units"] for row in known)
        assert totals["intensity_m3_per_unit"] == pytest.approx(
            sum(row["intake_m3"] for row in known) / totals["output_units"], abs=1e-4)
        # Hours cannot be given a share of a day's pushed output.
        hourly = c.get(f"/api/v1/sites/{SITE_A}/water", params={"period": "hour"}).json()
        assert all(row["output_units"] is None for row in hourly["rows"])
        # Scope, bad figures and days without output yet are refused.
        assert c.put("/api/v1/sites/logistica-prato/production", json=push).status_code == 403
        bad = c.put(f"/api/v1/sites/{SITE_A}/production",
                    json={"days": [{"day": str(today), "output_units": -1}]})
        assert bad.status_code == 422
        future = c.put(f"/api/v1/sites/{SITE_A}/production",
                       json={"days": [{"day": str(today + timedelta(days=2)), "output_units": 5}]})
        assert future.status_code == 422 and "future" in future.json()["detail"]
    with api_server.client(api_server.operator) as c:
        r = c.put("/api/v1/sites/lanificio-bianchi/production", json=push)
        assert r.status_code == 404 and "no water section" in r.json()["detail"]
    with api_server.client() as public:
        assert public.put(f"/api/v1/sites/{SITE_A}/production", json=push).status_code == 403


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
    # Today's intake against the allowance of the district's level, for every firm in view.
    expect(page.locator(f"#allowance-{SITE_A}")).to_contain_text("Tintoria Rossi")
    expect(page.locator(f"#allowance-{SITE_A}")).to_contain_text("(normal)")
    # pushed by test_pushed_production_gives_water_intensity_per_day: m3 per kg of dyed fabric
    expect(page.locator("#water-intensity .value")).to_contain_text("m³/kg")
    page.screenshot(path=str(ARTIFACTS / "dashboard-water.png"), full_page=True)
    assert errors == []
    page.close()
