"""The Reports page as the municipality (role authority) in Chromium via Playwright: it edits a
target, the progress chart moves, and it downloads the yearly PDF (pdftoppm renders page 1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.api.conftest import ApiServer
from tests.api.test_dashboard import ARTIFACTS, CHROMIUM_ARGS, _page
from tests.api.test_settlement import pdf_text, rendered_page
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

CO2 = "#target-chart-co2_electricity_t"


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=tmp_path_factory.mktemp("reports-ui"),
                     seed=True) as server:
        yield server


@pytest.fixture(scope="module")
def browser(api: ApiServer) -> Iterator[Browser]:  # after the API: seeding runs its own event loop
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_authority_edits_a_target_sees_the_chart_move_and_downloads_the_pdf(
        api: ApiServer, browser: Browser, tmp_path: Path) -> None:
    assert api.authority is not None
    with api.client(api.authority) as c:  # the seeded day: 0.4992 t CO2 in 2026
        assert c.put("/api/v1/district/targets/co2_electricity_t", json={
            "baseline_year": 2025, "baseline_value": 0.6, "target_year": 2030, "target_value": 0.1,
            "note": "-83 % by 2030"}).status_code == 200
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(browser)
    page.goto(api.url + "/")
    page.click("#login-button")
    page.fill("#login-username", api.authority.name)
    page.fill("#login-password", api.authority.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_have_text("municipio · authority")
    expect(page.locator("#tabs [data-view=statement]")).to_be_hidden()  # no firm's pages
    page.click("#tabs [data-view=reports]")
    status = page.locator("#target-co2_electricity_t .target-status")
    expect(status).to_have_text("on track")  # 0.4992 t against the path's 0.5 t
    path = page.locator(f"{CO2} .target-path")
    before = path.get_attribute("points")
    expected_before = page.locator(f"{CO2} .target-expected").get_attribute("cy")
    # A steeper target: 0.35 t already in 2026.
    expect(page.locator("#target-form-card")).to_be_visible()
    page.select_option("#target-metric", "co2_electricity_t")
    page.fill("#target-year", "2026")
    page.fill("#target-value", "0.35")
    page.click("#target-save")
    expect(page.locator("#target-result")).to_have_text("saved")
    expect(status).to_have_text("behind the path")
    expect(path).not_to_have_attribute("points", before or "")
    assert page.locator(f"{CO2} .target-expected").get_attribute("cy") != expected_before
    expect(page.locator("#target-co2_electricity_t")).to_contain_text("set by municipio (authority)")
    page.screenshot(path=str(ARTIFACTS / "dashboard-reports.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#reports-pdf")
    download = info.value
    assert download.suggested_filename.startswith("district-report-20")
    pdf = tmp_path / "report.pdf"
    download.save_as(pdf)
    assert rendered_page(pdf, tmp_path).stat().st_size > 5_000
    text = pdf_text(pdf)
    assert "behind the path" in text and "Firms taking part" in text
    with api.client() as public:  # the history keeps both changes and who made them
        history = public.get("/api/v1/district/targets/history").json()
    assert [(h["set_by"], h["target_value"]) for h in history] == [("municipio", 0.35), ("municipio", 0.1)]
    assert errors == []
    page.close()
