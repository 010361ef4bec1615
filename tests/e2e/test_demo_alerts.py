"""The demo's fault at a known time, in Chromium: an alert appears and clears on the dashboard.

At 360x from 07:00 the demo silences Stamperia Gialli's water meter from 08:30 to 09:30 (15 s of
wall time after the start, for 10 s): the operator's Alerts tab, which says "No alerts." before,
shows the coordinator's device_offline warning and then the same alert cleared; Tintoria's site
manager sees no alert at all (about a minute and a half in all).
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.e2e.test_demo import ARTIFACTS, Demo, _browser, demo_factory  # noqa: F401 (fixture)
from tests.e2e.test_demo_firm_view import _login

RAISED = "The device water-public of Stamperia Gialli has sent no reading since Wed 17 Jun 08:"
CLEARED = "The device water-public of Stamperia Gialli sends readings again since Wed 17 Jun"


def test_the_silent_meter_raises_an_alert_that_clears_on_the_dashboard(
        demo_factory: Callable[..., Demo]) -> None:  # noqa: F811
    demo = demo_factory("--speed", "360", "--poll-interval", "1")
    demo.wait_ready()
    ARTIFACTS.mkdir(exist_ok=True)
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(demo.url + "/")
        _login(page, demo, "operator")
        page.click("#tabs [data-view=alerts]")
        table = page.locator("#alerts-table")
        expect(page.locator("#no-alerts")).to_be_visible()  # before 08:30 nothing is wrong
        # raised: the table refreshes on the live alert, the header's badge counts it
        expect(table).to_contain_text(RAISED, timeout=90_000)
        row = table.locator("tr", has_text="water-public")
        expect(row).to_contain_text("stamperia-gialli")
        expect(row).to_contain_text("warning")
        expect(row).to_contain_text("active")
        expect(page.locator("#alert-count")).to_have_text("1")
        page.screenshot(path=str(ARTIFACTS / "demo-alert-raised.png"), full_page=True)
        # cleared once the meter answers again (after 09:30)
        expect(table).to_contain_text(CLEARED, timeout=120_000)
        expect(row).to_contain_text("cleared")
        expect(page.locator("#alert-count")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "demo-alert-cleared.png"), full_page=True)

        page.click("#logout-button")
        expect(page.locator("#user-label")).to_have_text("public view")
        _login(page, demo, "tintoria")
        page.click("#tabs [data-view=alerts]")
        expect(page.locator("#no-alerts")).to_be_visible()  # another firm's alert is not theirs
        assert errors == []
    assert demo.interrupt() == 0
