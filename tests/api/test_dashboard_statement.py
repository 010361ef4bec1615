"""The firm's monthly statement in the dashboard (Chromium via Playwright), and its PDF download."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.api.conftest import ApiServer
from tests.api.settlement_data import (
    EXPECTED,
    INCENTIVE_EUR,
    SAVINGS,
    write_baseline_day,
    write_settlement_month,
)
from tests.api.test_dashboard import ARTIFACTS, CHROMIUM_ARGS, _page
from tests.api.test_settlement import pdf_text, rendered_page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_a_firm_sees_its_monthly_statement_and_downloads_the_pdf(api_server: ApiServer, browser: Browser,
                                                                 tmp_path: Path) -> None:
    # Playwright's sync API runs its own event loop in this thread: write from another one.
    with ThreadPoolExecutor(1) as pool:
        month = pool.submit(write_settlement_month, api_server).result()
        pool.submit(write_baseline_day, api_server, month).result()
    with api_server.client(api_server.manager_a) as c:
        api_total = c.get("/api/v1/sites/tintoria-rossi/statement", params={"month": month}).json()
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(browser)
    page.goto(api_server.url + "/")
    page.click("#login-button")
    page.fill("#login-username", api_server.manager_a.name)
    page.fill("#login-password", api_server.manager_a.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_have_text("rossi · site manager")
    page.click("#tabs [data-view=statement]")
    # A site manager can pick only their own firm.
    expect(page.locator("#statement-site option")).to_have_count(1)
    page.fill("#statement-month", month)
    page.click("#statement-load")
    incentive = f"{EXPECTED['tintoria-rossi']:.2f} EUR"
    expect(page.locator("#statement-incentive .value")).to_have_text(incentive)
    net = f"{api_total['total']['net_cost_eur']:.2f} EUR"
    expect(page.locator("#statement-net .value")).to_have_text(net)
    expect(page.locator("#statement-district")).to_contain_text(f"{INCENTIVE_EUR:.2f} EUR")
    expect(page.locator("#statement-chart rect[data-part='Consumer part']")).to_have_count(1)
    # The coordinator's day against both baselines: the firm's savings, named.
    expect(page.locator("#statement-saved-fair .value")).to_have_text(
        f"{SAVINGS['savings_vs_fair_baseline_eur']:.2f} EUR")
    expect(page.locator("#statement-saved-nothing .value")).to_have_text(
        f"{SAVINGS['savings_vs_do_nothing_eur']:.2f} EUR")
    page.screenshot(path=str(ARTIFACTS / "dashboard-statement.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#statement-pdf")
    download = info.value
    assert download.suggested_filename == f"statement-tintoria-rossi-{month}.pdf"
    path = tmp_path / "statement.pdf"
    download.save_as(path)
    assert rendered_page(path, tmp_path).stat().st_size > 5_000
    text = pdf_text(path)
    # The PDF shows the same totals as the API.
    for figure in (api_total["total"]["incentive_eur"], api_total["total"]["energy_cost_eur"],
                   api_total["total"]["net_cost_eur"], api_total["district_total"]["incentive_eur"]):
        assert f"{figure:.2f} EUR" in text
    assert errors == []
    page.close()
