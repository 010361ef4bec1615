"""Issue 20 through the API against the real InfluxDB store: the leak ranking with volumes, the
night-shift calendar, balances and the allowance's over flag; each route scoped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from nzd.messages import DeviceKind
from nzd.store import Event, EventKind, Reading
from tests.api.conftest import DISTRICT, SITE_A, SITE_B, ApiServer, write
from tests.api.test_dashboard import ARTIFACTS, CHROMIUM_ARGS

TZ = ZoneInfo("Europe/Rome")


def store_write(server: ApiServer, readings: list[Reading] = (), events: list[Event] = ()) -> None:  # type: ignore[assignment]
    """``write`` on its own thread: Playwright's sync API may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(write, server, readings, events).result()


def test_leaks_are_ranked_by_estimated_volume_and_scoped(api_server: ApiServer) -> None:
    url = "/api/v1/district/water/leaks"
    with api_server.client(api_server.operator) as c:
        rows = {r["alert_id"]: r for r in c.get(url).json()}
        ranked = [r["alert_id"] for r in c.get(url).json()]
    rossi, logistica = rows["leak-rossi-1"], rows["leak-logistica-1"]
    # Seeded alerts: 2.1 m3/h of night flow. Rossi's meter has 0.15 m3/h of legitimate night use and
    # public water at 2.0 EUR/m3: (2.1 - 0.15) x 24 h = 46.8 m3/day, 93.6 EUR/day. Logistica has no
    # registry entry for the meter: (2.1 - 0) x 24 = 50.4 m3/day, no price, so it ranks first.
    assert rossi["leakage_m3_per_day"] == pytest.approx(46.8)
    assert rossi["leakage_eur_per_day"] == pytest.approx(93.6)
    assert logistica["leakage_m3_per_day"] == pytest.approx(50.4) and logistica["leakage_eur_per_day"] is None
    assert ranked.index("leak-logistica-1") < ranked.index("leak-rossi-1")
    with api_server.client(api_server.manager_a) as c:
        mine = c.get(url).json()
        assert {r["site"] for r in mine} == {SITE_A}  # never another firm's leak
    with api_server.client() as public:
        assert public.get(url).status_code == 403
    with api_server.client(token=api_server.public_token) as public:
        assert public.get(url).status_code == 403


def test_night_shifts_are_declared_by_the_sites_manager_only(api_server: ApiServer) -> None:
    url = f"/api/v1/sites/{SITE_A}/water/night-shifts"
    today = datetime.now(TZ).date()
    nights = [str(today + timedelta(days=1)), str(today + timedelta(days=2))]
    with api_server.client(api_server.manager_a) as c:
        r = c.put(url, json={"nights": nights})
        assert r.status_code == 200, r.text
        declared = {s["night"]: s for s in r.json()}
        assert set(nights) <= set(declared) and declared[nights[0]]["set_by"] == "rossi"
        assert declared[nights[0]]["source"] == "declared"
        # Withdrawn: gone from the calendar; withdrawing it again is a 404.
        r = c.delete(f"{url}/{nights[1]}")
        assert r.status_code == 200 and nights[1] not in {s["night"] for s in r.json()}
        assert c.delete(f"{url}/{nights[1]}").status_code == 404
        too_far = c.put(url, json={"nights": [str(today + timedelta(days=800))]})
        assert too_far.status_code == 422
        # Another firm's calendar is neither readable nor writable.
        other = "/api/v1/sites/depuratore/water/night-shifts"
        assert c.get(other).status_code == 403
        assert c.put(other, json={"nights": nights}).status_code == 403
    with api_server.client(api_server.operator) as c:
        assert nights[0] in {s["night"] for s in c.get(url).json()}
    with api_server.client() as public:
        assert public.get(url).status_code == 403
        assert public.put(url, json={"nights": nights}).status_code in (401, 403)


def test_a_firms_balance_shows_the_unexplained_part(api_server: ApiServer) -> None:
    url = f"/api/v1/sites/{SITE_A}/water/balance"
    with api_server.client(api_server.manager_a) as c:
        r = c.get(url)
        assert r.status_code == 200, r.text
        t = r.json()["totals"]
    # Seeded: 96 quarter hours of 2 + 3 m3 intake and 4 m3 discharge; 5 % declared use:
    # in 480, explained 384 + 24 = 408, unexplained 72 m3 (15 %), above Rossi's 10 % threshold.
    assert (t["in_m3"], t["explained_m3"], t["unexplained_m3"]) == (480.0, 408.0, 72.0)
    assert t["unexplained_pct"] == 15.0 and t["over_threshold"] is True
    with api_server.client(api_server.manager_a) as c:
        assert c.get("/api/v1/sites/depuratore/water/balance").status_code == 403
    with api_server.client(token=api_server.public_token) as public:
        assert public.get(url).status_code == 403


def test_the_recycled_network_balance_shows_its_loss_to_the_operator(api_server: ApiServer) -> None:
    # The plant's totaliser: 3.125 m3 per quarter hour over the last day against Rossi's 3 m3:
    # 300 m3 out, 288 m3 taken in, 12 m3 (4 %) lost.
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - 86_400_000 + 60_000
    store_write(api_server, [Reading(DISTRICT, "depuratore", "recycled-out", DeviceKind.WATER_FLOW_METER,
                               start_ms + k * 900_000, k, {"water_volume_m3": 5000.0 + 3.125 * k})
                       for k in range(97)])
    url = "/api/v1/district/water/recycled-network"
    with api_server.client(api_server.operator) as c:
        r = c.get(url)
        assert r.status_code == 200, r.text
        report = r.json()
    t = report["totals"]
    assert report["threshold_pct"] == 2.0
    assert (t["in_m3"], t["explained_m3"], t["unexplained_m3"]) == (300.0, 288.0, 12.0)
    assert t["unexplained_pct"] == 4.0
    assert t["over_threshold"] is True
    assert sum(row["unexplained_m3"] or 0 for row in report["rows"]) == pytest.approx(12.0)
    with api_server.client(api_server.operator) as c:  # per hour: 0.125 m3 of every 3.125 m3 lost
        hourly = c.get(url, params={"period": "hour"}).json()
    full = [row for row in hourly["rows"] if row["in_m3"] == pytest.approx(12.5)]
    assert len(full) >= 22 and all(row["unexplained_m3"] == pytest.approx(0.5) for row in full)
    assert hourly["totals"]["unexplained_m3"] == pytest.approx(12.0)
    with api_server.client(api_server.manager_a) as c:  # Rossi is not the plant
        r = c.get(url)
        assert r.status_code == 403 and "plant" in r.json()["detail"]
    with api_server.client() as public:
        assert public.get(url).status_code == 403


def test_every_row_carries_the_allowance_level_and_over_flag(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        report = c.get(f"/api/v1/sites/{SITE_A}/water").json()
    rows = report["rows"]
    assert all(isinstance(r["over"], bool) for r in rows)
    # Fresh water only: the 192 m3 of public intake count, the 288 m3 of recycled water do not.
    assert sum(r["allowance_counted_m3"] for r in rows) == pytest.approx(192.0)
    assert all(r["allowance_severity"] in ("normal", "low", "medium", "high") for r in rows)
    assert not any(r["over"] for r in rows)
    assert SITE_B not in str(report)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_water_page_shows_leaks_balances_and_night_shifts(api_server: ApiServer,
                                                              browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(api_server.url + "/")
    page.click("#login-button")
    page.fill("#login-username", api_server.manager_a.name)
    page.fill("#login-password", api_server.manager_a.password)
    page.click("#login-submit")
    expect(page.locator("#user-label")).to_have_text("rossi · site manager")
    page.click("#tabs [data-view=water]")
    # The leak ranking: Rossi's own leak with its estimated volume and cost, nobody else's.
    expect(page.locator("#water-leaks .leak-row")).to_have_count(1)
    expect(page.locator("#water-leaks")).to_contain_text("46.8 m³/day")
    expect(page.locator("#water-leaks")).to_contain_text("93.60 €/day")
    # The firm's balance: 72 m3 of 480 unexplained over the 7 days (15 %).
    expect(page.locator("#water-balance tr.total")).to_contain_text("72 m³")
    expect(page.locator("#water-balance tr.total")).to_contain_text("15.0 %")
    # The recycled network shows the plant's own output: not to another firm's manager.
    expect(page.locator("#water-network")).to_contain_text("plant")
    # Declaring a night shift from the page puts it in the calendar.
    night = str(datetime.now(TZ).date() + timedelta(days=5))
    page.fill("#shift-night", night)
    page.click("#shift-form button[type=submit]")
    expect(page.locator("#water-shifts")).to_contain_text(night)
    expect(page.locator("#water-shifts")).to_contain_text("rossi")
    page.screenshot(path=str(ARTIFACTS / "dashboard-water-leaks.png"), full_page=True)
    page.locator(f"#water-shifts button[data-night='{night}']").click()
    expect(page.locator("#water-shifts")).not_to_contain_text(night)
    assert errors == []
    page.close()


def test_past_days_keep_the_level_in_force_then(api_server: ApiServer) -> None:
    # The operator declared "high" eight days ago and went back to "normal" six days ago (both
    # older than any level set by other tests, which set theirs now).
    today = datetime.now(TZ).date()
    at = {n: int(datetime.combine(today - timedelta(days=n), datetime.min.time(), TZ).timestamp() * 1000)
          for n in (10, 8, 6, 0)}
    store_write(api_server, events=[
        Event(EventKind.STATUS, DISTRICT, "*", at[8] + 10 * 3_600_000, "water-severity",
              {"water_severity": "high", "user": "operator"}),
        Event(EventKind.STATUS, DISTRICT, "*", at[6] + 10 * 3_600_000, "water-severity",
              {"water_severity": "normal", "user": "operator"})])
    with api_server.client(api_server.manager_a) as c:
        r = c.get(f"/api/v1/sites/{SITE_A}/water", params={
            "from": datetime.fromtimestamp(at[10] / 1000, TZ).isoformat(),
            "to": datetime.fromtimestamp(at[0] / 1000, TZ).isoformat()})
        assert r.status_code == 200, r.text
    levels = {datetime.fromtimestamp(row["period_start_ms"] / 1000, TZ).date(): (row["allowance_severity"],
                                                                                 row["allowance_m3"])
              for row in r.json()["rows"]}
    def day(n: int) -> date:
        return today - timedelta(days=n)

    assert levels[day(9)] == ("normal", 300.0)
    assert levels[day(8)] == ("high", 200.0) and levels[day(7)] == ("high", 200.0)
    assert levels[day(6)] == ("normal", 300.0)  # set back during that day: the whole day
