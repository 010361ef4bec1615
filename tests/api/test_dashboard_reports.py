"""The Reports page in Chromium via Playwright: the municipality (role authority) proposes a change
to a target, the operator agrees to it, the progress chart moves, and the authority downloads the
yearly PDF (pdftoppm renders page 1); the operator rejects a proposal with a reason; the public
sees agreed targets only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.api.conftest import ApiServer, User
from tests.api.test_dashboard import ARTIFACTS, CHROMIUM_ARGS, _page
from tests.api.test_settlement import pdf_text, rendered_page
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import agree_target, running_api

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


def _login(browser: Browser, api: ApiServer, user: User) -> tuple[Page, list[str]]:
    page, errors = _page(browser)
    page.goto(api.url + "/")
    page.click("#login-button")
    page.fill("#login-username", user.name)
    page.fill("#login-password", user.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_contain_text(user.name)
    page.click("#tabs [data-view=reports]")
    return page, errors


def test_the_authority_edits_a_target_sees_the_chart_move_and_downloads_the_pdf(
        api: ApiServer, browser: Browser, tmp_path: Path) -> None:
    assert api.authority is not None
    agree_target(api, "co2_electricity_t", {  # the seeded day: 0.4992 t CO2 in 2026
        "baseline_year": 2025, "baseline_value": 0.6, "target_year": 2030, "target_value": 0.1,
        "note": "-83 % by 2030"})
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _login(browser, api, api.authority)
    expect(page.locator("#user-label")).to_have_text("municipio · authority")
    expect(page.locator("#tabs [data-view=statement]")).to_be_hidden()  # no firm's pages
    status = page.locator("#target-co2_electricity_t .target-status")
    expect(status).to_have_text("on track")  # 0.4992 t against the path's 0.5 t
    path = page.locator(f"{CO2} .target-path")
    before = path.get_attribute("points")
    expected_before = page.locator(f"{CO2} .target-expected").get_attribute("cy")
    # The authority proposes a steeper target: 0.35 t already in 2026.
    expect(page.locator("#target-form-card")).to_be_visible()
    page.select_option("#target-metric", "co2_electricity_t")
    page.fill("#target-year", "2026")
    page.fill("#target-value", "0.35")
    page.click("#target-save")
    expect(page.locator("#target-result")).to_have_text("proposed: waiting for the operator to agree")
    mine = page.locator("#target-proposals .proposal")
    expect(mine).to_have_count(1)
    expect(mine.locator(".proposal-waiting")).to_have_text("waiting for the operator")
    expect(mine.locator(".proposal-agree")).to_have_count(0)  # not its own proposal
    # Proposed is not agreed: the progress and the chart have not moved.
    expect(status).to_have_text("on track")
    expect(path).to_have_attribute("points", before or "")

    # The operator sees it waiting for them and agrees.
    operator, operator_errors = _login(browser, api, api.operator)
    theirs = operator.locator("#target-proposals .proposal")
    expect(theirs).to_have_count(1)
    expect(theirs).to_contain_text("proposed by municipio (authority)")
    expect(theirs.locator(".proposal-waiting")).to_have_text("waiting for you")
    operator.screenshot(path=str(ARTIFACTS / "dashboard-reports-proposal.png"), full_page=True)
    theirs.locator(".proposal-agree").click()
    expect(operator.locator("#target-proposals")).to_have_text("No open proposals.")
    expect(operator.locator("#target-co2_electricity_t .target-status")).to_have_text("behind the path")
    assert operator_errors == []
    operator.close()

    page.click("#reports-load")  # the authority's page, read again
    expect(status).to_have_text("behind the path")
    expect(path).not_to_have_attribute("points", before or "")
    assert page.locator(f"{CO2} .target-expected").get_attribute("cy") != expected_before
    agreed = page.locator("#target-co2_electricity_t .target-agreed")
    expect(agreed).to_contain_text("proposed by municipio (authority)")
    expect(agreed).to_contain_text("agreed by operator (operator)")
    expect(mine).to_have_count(0)
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
    with api.client() as public:  # the history keeps every step and who took it
        history = public.get("/api/v1/district/targets/history").json()
    assert [(h["step"], h["by"]) for h in history] == [
        ("agreed", "operator"), ("proposed", "municipio"), ("agreed", "operator"), ("proposed", "municipio")]
    assert [h["target"]["target_value"] for h in history if h["step"] == "proposed"] == [0.35, 0.1]
    assert errors == []
    page.close()


def test_the_operator_rejects_a_proposal_with_a_reason_and_the_public_sees_agreed_targets_only(
        api: ApiServer, browser: Browser) -> None:
    assert api.authority is not None
    with api.client(api.authority) as c:
        r = c.put("/api/v1/district/targets/renewable_share", json={
            "baseline_year": 2025, "baseline_value": 0.1, "target_year": 2030, "target_value": 0.5})
        assert r.status_code == 202, r.text
    public, public_errors = _page(browser)
    public.goto(api.url + "/")
    public.click("#tabs [data-view=reports]")
    expect(public.locator("#target-co2_electricity_t")).to_be_visible()
    expect(public.locator("#target-renewable_share")).to_have_count(0)  # proposed only
    expect(public.locator("#target-proposals-card")).to_be_hidden()
    expect(public.locator("#target-form-card")).to_be_hidden()
    assert public_errors == []
    public.close()

    page, errors = _login(browser, api, api.operator)
    proposal = page.locator(f"#proposal-{r.json()['id']}")
    proposal.locator(".proposal-reject").click()
    expect(proposal.locator(".proposal-result")).to_have_text("give a reason")
    proposal.locator(".proposal-reason").fill("the 2025 share is 0.12 on the meters")
    proposal.locator(".proposal-reject").click()
    expect(page.locator("#target-proposals")).to_have_text("No open proposals.")
    expect(page.locator("#target-renewable_share")).to_have_count(0)
    assert errors == []
    page.close()
    with api.client() as c:
        (step,) = c.get("/api/v1/district/targets/history", params={"metric": "renewable_share"}).json()[:1]
    assert (step["step"], step["by"]) == ("rejected", "operator")
    assert step["reason"] == "the 2025 share is 0.12 on the meters"
