"""Scenarios through the API and the dashboard: the operator submits, a worker (real store) runs,
results by role; in Chromium the operator runs one and sees the sizes and the cost-CO2 curve."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from coordinator.scenarios._jobs import run_pending, worker_loop
from nzd.store import open_store
from tests.api.conftest import DISTRICT, DISTRICT_FILE, SITE_A, SITES, ApiServer, run, store_settings
from tests.api.test_dashboard import _page, browser  # noqa: F401  (the module's Chromium fixture)
from tests.api.test_settlement import pdf_text, rendered_page

SCENARIO = {
    "name": "api-roofs",
    "step_minutes": 60,
    "representative_days": 4,
    "co2_sweep_pct": [0, 5],
    "surfaces": [{"id": f"{s}-roof", "site": s, "area_m2": 1500} for s in SITES],
    "batteries": [{"id": "shared", "site": SITES[0], "owners": {SITES[0]: 0.5, SITES[1]: 0.5}}],
}


def _run_pending(server: ApiServer) -> int:
    """One pass of the worker; in its own thread, as Playwright's sync API may hold this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run, _run_once(server)).result()


async def _run_once(server: ApiServer) -> int:
    store = open_store(store_settings(server))
    await store.open()
    try:
        return await run_pending(store, district=DISTRICT, district_file=DISTRICT_FILE)
    finally:
        await store.close()


def test_submit_run_and_read_by_role(api_server: ApiServer) -> None:
    with api_server.client() as public:
        assert public.post("/api/v1/scenarios", json=SCENARIO).status_code == 403
    with api_server.client(api_server.manager_a) as manager:
        assert manager.post("/api/v1/scenarios", json=SCENARIO).status_code == 403
    with api_server.client(api_server.operator) as op:
        bad = op.post(
            "/api/v1/scenarios", json={**SCENARIO, "weather": {"source": "epw", "file": "/etc/passwd"}}
        )
        assert bad.status_code == 422 and "synthetic" in bad.text
        bad = op.post(
            "/api/v1/scenarios",
            json={**SCENARIO, "surfaces": [{"id": "x", "site": "nowhere", "area_m2": 10}]},
        )
        assert bad.status_code == 422 and "nowhere" in bad.text
        r = op.post("/api/v1/scenarios", json=SCENARIO)
        assert r.status_code == 202, r.text
        job = r.json()["id"]
        assert op.get(f"/api/v1/scenarios/{job}").json()["state"] == "queued"
    assert _run_pending(api_server) >= 1
    with api_server.client(api_server.operator) as op:
        done = op.get(f"/api/v1/scenarios/{job}").json()
        assert done["state"] == "done", done
        result = done["result"]
        assert {f["site"] for f in result["firms"]} == set(SITES)
        assert len(result["surfaces"]) == len(SITES) and done["scenario"]["name"] == "api-roofs"
        assert any(j["id"] == job and j["state"] == "done" for j in op.get("/api/v1/scenarios").json())
    with api_server.client() as public:
        seen = public.get(f"/api/v1/scenarios/{job}").json()["result"]
        # District totals only: no firm, no surface, no battery, none of the firms' parts.
        assert not {"firms", "surfaces", "batteries", "sites", "contributions"} & set(seen)
        # Four roofs of 1500 m2 at 0.2 kWp/m2 (300 kWp each, 25 % of the total): shown.
        assert [s["kwp"] for s in result["surfaces"]] == pytest.approx([300.0] * 4)
        assert seen["pv_kwp_total"] == pytest.approx(1200.0)
        assert seen["finance"]["npv_eur"] == pytest.approx(result["finance"]["npv_eur"])
        # Whatever is shown is the operator's figure; whatever is withheld is null.
        for k, v in seen["year"].items():
            assert v is None or v == pytest.approx(result["year"][k])
    with api_server.client(api_server.manager_a) as manager:
        mine = manager.get(f"/api/v1/scenarios/{job}").json()["result"]
        assert [f["site"] for f in mine["firms"]] == [SITE_A]
        assert [s["site"] for s in mine["surfaces"]] == [SITE_A]
        assert manager.get("/api/v1/scenarios/000000000000").status_code == 404


@pytest.fixture
def worker(api_server: ApiServer) -> Iterator[None]:
    """``nzd scenario worker``'s loop in a thread, against the API's store."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def go() -> None:
        store = open_store(store_settings(api_server))
        await store.open()
        try:
            await worker_loop(store, district=DISTRICT, district_file=DISTRICT_FILE, poll_s=0.5, stop=stop)
        finally:
            await store.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(go(),), daemon=True)
    thread.start()
    yield
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=120)


def test_operator_runs_a_scenario_in_the_dashboard(
    api_server: ApiServer,
    browser: Browser,  # noqa: F811
    worker: None,
    tmp_path: Path,
) -> None:
    page, errors = _page(browser)
    page.goto(api_server.url + "/")
    page.click("#login-button")
    page.fill("#login-username", api_server.operator.name)
    page.fill("#login-password", api_server.operator.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_contain_text("operator")
    page.click("#tabs button[data-view=scenarios]")
    expect(page.locator("#scenario-json")).to_be_visible()
    draft = page.locator("#scenario-json").input_value()
    assert '"surfaces"' in draft and SITE_A in draft
    page.click("#scenario-run")
    expect(page.locator("#scenario-status")).to_have_text("done", timeout=180_000)
    # The sizes, one row per candidate surface and battery, and the cost-CO2 curve.
    expect(page.locator("#scenario-sizes td.kwp")).to_have_count(len(SITES))
    expect(page.locator("#scenario-sizes td.kwh")).to_have_count(1)
    expect(page.locator("#scenario-curve .co2-curve")).to_have_count(1)
    assert page.locator("#scenario-curve .co2-point").count() >= 1
    expect(page.locator("#scenario-tiles")).to_contain_text("kWp")
    expect(page.locator("#scenario-firms")).to_contain_text(SITE_A)
    # The result as PDF, linked from the page: a viewer renders it and it names the firms' roofs.
    with page.expect_download() as info:
        page.click("#scenario-pdf")
    path = tmp_path / "scenario.pdf"
    info.value.save_as(path)
    assert info.value.suggested_filename.startswith("scenario-") and rendered_page(path, tmp_path)
    assert "PV per surface" in pdf_text(path) and f"{SITE_A}-roof" in pdf_text(path)
    assert not errors, errors


def test_an_impossible_scenario_fails_with_its_reason(api_server: ApiServer) -> None:
    impossible = {**SCENARIO, "name": "all-green", "options": {"renewable_share_min": 1.0}}
    with api_server.client(api_server.operator) as op:
        job = op.post("/api/v1/scenarios", json=impossible).json()["id"]
    _run_pending(api_server)
    with api_server.client(api_server.operator) as op:
        failed = op.get(f"/api/v1/scenarios/{job}").json()
    assert failed["state"] == "failed"
    assert "no optimal sizing" in failed["error"] and failed["result"] is None
    # The reason is free text that may name a firm: the operator's only.
    with api_server.client() as public:
        seen = public.get(f"/api/v1/scenarios/{job}").json()
        assert seen["state"] == "failed" and seen["error"] is None
        assert all(j["error"] is None for j in public.get("/api/v1/scenarios").json())
