"""Issue 20 through the API against the real InfluxDB store: the leak ranking with volumes, the
night-shift calendar, balances and the allowance's over flag; each route scoped."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nzd.messages import DeviceKind
from nzd.store import Reading
from tests.api.conftest import DISTRICT, SITE_A, SITE_B, ApiServer, write

TZ = ZoneInfo("Europe/Rome")


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
    write(api_server, [Reading(DISTRICT, "depuratore", "recycled-out", DeviceKind.WATER_FLOW_METER,
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
