"""Acceptance of issue 15 in Chromium: the firm's view of the running demo.

The site manager of Tintoria sees today's cost and the batch's schedule for the next hours; the
operator sees the community battery's schedule with its state of charge, sends manual setpoints to
the batch and the pump, and downloads a chart as CSV whose rows are the chart's values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.test_demo import ARTIFACTS, Demo, _browser, demo_factory, wait_for  # noqa: F401 (fixture)


def _login(page: Page, demo: Demo, user: str) -> None:
    page.click("#login-button")
    page.fill("#login-username", user)
    page.fill("#login-password", demo.password(user))
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_contain_text(user)
    # the start-up after a login ends by showing the overview: wait for it before changing tabs
    expect(page.locator("#live-state")).to_have_text("● live", timeout=30_000)
    expect(page.locator("#view-overview")).to_be_visible()


def test_site_manager_and_operator_use_the_firm_view(demo_factory: Callable[..., Demo]) -> None:  # noqa: F811
    demo = demo_factory("--speed", "60", "--poll-interval", "1")
    demo.wait_ready()
    ARTIFACTS.mkdir(exist_ok=True)
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(demo.url + "/")
        _login(page, demo, "tintoria")
        page.click("#tabs [data-view=firm]")
        expect(page.locator("#firm-site")).to_have_value("tintoria-rossi")
        # today's cost: the night before 07:00 is in the seeded history
        expect(page.locator("#firm-cost .value")).not_to_have_text("–", timeout=30_000)
        assert float(page.locator("#firm-cost .value").inner_text().removesuffix("€")) > 0
        # the batch's schedule from the first plan, with planned values
        wait_for(lambda: page.locator("#firm-chart-batch-power path[data-series=planned]").count() == 1
                 or page.click("#tabs [data-view=firm]"), what="the batch schedule", demo=demo, timeout_s=90)
        expect(page.locator("#firm-chart-batch-power .axis text").first).to_contain_text("kW")
        expect(page.locator("#firm-controls")).to_contain_text("load_power_setpoint_w")
        expect(page.locator("#firm-manual")).to_be_hidden()  # a site manager does not send setpoints
        page.screenshot(path=str(ARTIFACTS / "demo-firm-site-manager.png"), full_page=True)

        page.click("#logout-button")
        expect(page.locator("#user-label")).to_have_text("public view")
        expect(page.locator(".public-note")).to_be_visible()  # the public view has finished loading
        _login(page, demo, "operator")
        # a firm's flow diagram has only the nodes it has
        expect(page.locator("#flow-comunita-energetica-battery")).to_have_count(1)
        expect(page.locator("#flow-logistica-prato-battery")).to_have_count(0)
        expect(page.locator("#flow-logistica-prato-pv")).to_have_count(1)
        page.click("#tabs [data-view=firm]")
        page.select_option("#firm-site", "comunita-energetica")
        soc = page.locator("#firm-chart-battery-soc path[data-series=planned]")
        expect(soc).to_have_count(1, timeout=20_000)
        expect(page.locator("#firm-chart-battery-soc .axis text").first).to_contain_text("%")
        expect(page.locator("#firm-controls")).to_contain_text("positive discharges the battery")

        # manual setpoints to the batch and the pump, within their limits
        page.select_option("#firm-site", "tintoria-rossi")
        expect(page.locator("#firm-asset")).to_have_value("batch")
        expect(page.locator("#firm-asset-note")).to_contain_text("0 to 60000")
        page.fill("#firm-value", "30000")
        page.click("#firm-send")
        expect(page.locator("#firm-result")).to_contain_text("sent batch 30000 W")
        page.select_option("#firm-site", "depuratore-baciacavallo")
        expect(page.locator("#firm-asset")).to_have_value("recycled-tank")
        expect(page.locator("#firm-asset-note")).to_contain_text("m3/h")
        page.fill("#firm-value", "25")
        page.click("#firm-send")
        expect(page.locator("#firm-result")).to_contain_text("sent recycled-tank 25 m3/h")

        # the pump's schedule downloads as CSV: a row per time, ISO local timestamps
        expect(page.locator("#firm-chart-recycled-tank-level path[data-series=planned]")).to_have_count(1)
        with page.expect_download() as download:
            page.click("[data-csv=firm-chart-recycled-tank-level]")
        path = download.value.path()
        assert download.value.suggested_filename == "depuratore-baciacavallo-recycled-tank-level.csv"
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert rows[0][:2] == ["time", "planned"]
        assert len(rows) > 10
        assert rows[1][0].startswith("2026-06-17T") and rows[1][0].endswith("+02:00")
        planned = [float(r[1]) for r in rows[1:] if r[1]]
        assert planned and all(0 <= v <= 100 for v in planned)
        assert errors == []
    assert demo.interrupt() == 0
