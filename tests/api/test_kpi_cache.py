"""Measured KPIs from the cache until a reading that may change them arrives on the live subscription."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from api.kpi_cache import KpiCache
from api.reading_reach import ReadingReach
from nzd.messages import DeviceKind, Telemetry
from nzd.store import Reading
from tests.api.conftest import DISTRICT, ApiServer, serve, write, write_unseen
from tests.api.test_latest import publish

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
SITE = "tintoria-rossi"
METER = DeviceKind.ELECTRICITY_METER


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def _reading(ts: int, seq: int, wh: float) -> Reading:
    return Reading(DISTRICT, SITE, "main-meter", METER, ts, seq,
                   {"energy_import_wh": wh, "energy_export_wh": 0.0})


def test_a_cached_answer_lasts_until_a_reading_in_its_range_arrives(api_server: ApiServer) -> None:
    # Two hours 60 days ago, 2.5 kWh every 15 minutes: 10 kWh per hour.
    start_ms = (int(time.time() * 1000) - 60 * 86_400_000) // HOUR_MS * HOUR_MS
    write(api_server, [_reading(start_ms + k * 900_000, 1000 + k, 1000.0 + 2500.0 * k) for k in range(9)])
    params = {"from": _iso(start_ms), "to": _iso(start_ms + 2 * HOUR_MS), "period": "hour"}

    def imports() -> list[float]:
        with api_server.client(api_server.operator) as c:
            r = c.get(f"/api/v1/sites/{SITE}/kpis", params=params)
        assert r.status_code == 200, r.text
        return [round(row["import_kwh"], 3) for row in r.json()]

    assert imports() == [10.0, 10.0]
    # The reading on the hour edge corrected 2 kWh up, straight into the store: the subscription
    # has not seen it, so the answer is the cached one (what proves that the cache serves it).
    corrected = _reading(start_ms + HOUR_MS, 1004, 1000.0 + 2500.0 * 4 + 2000.0)
    write_unseen(api_server, [corrected])
    assert imports() == [10.0, 10.0]
    # A reading of today is far outside the period's reach: the answer stays.
    publish(api_server.mosquitto, SITE, [Telemetry(ts=int(time.time() * 1000), seq=1, device="main-meter",
                                                   kind=METER, values={"energy_import_wh": 5.0e6})])
    time.sleep(0.5)
    assert imports() == [10.0, 10.0]
    # The corrected reading arrives on the subscription (as ingest would publish and store it):
    # the answer is computed again from the store.
    publish(api_server.mosquitto, SITE, [Telemetry(ts=corrected.ts_ms, seq=corrected.seq, device="main-meter",
                                                   kind=METER, values=dict(corrected.values))])
    deadline = time.monotonic() + 5
    while (got := imports()) != [12.0, 8.0] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got == [12.0, 8.0]


def test_answers_are_kept_only_while_no_reading_in_their_reach_may_be_unstored() -> None:
    cache: KpiCache[str] = KpiCache(max_entries=2, settle_s=60.0)
    key = (("a",), 100 * DAY_MS, 130 * DAY_MS, "day", 0)
    assert not cache.put(key, "x", started_s=cache.started())  # the subscription is not connected
    cache.set_live(True)
    assert cache.put(key, "x", started_s=cache.started()) and cache.get(key) == "x"
    reach = ReadingReach()
    cache.saw("b", *reach.span("b", "m", 120 * DAY_MS))  # another site
    cache.saw("a", *reach.span("a", "m", 138 * DAY_MS))  # first seen: a week either side, after the period
    assert cache.get(key) == "x"
    # Readings in order after the period change only the time since the device's reading
    # before last: the month stays while the firm reports.
    for k in range(1, 100):
        cache.saw("a", *reach.span("a", "m", 138 * DAY_MS + k * 60_000))
    assert cache.get(key) == "x"
    cache.saw("a", *reach.span("a", "m", 136 * DAY_MS))  # out of order: a replay within a week
    assert cache.get(key) is None
    # Seen moments ago, so perhaps not stored yet: the answer just computed is not kept.
    assert not cache.put(key, "y", started_s=cache.started()) and cache.get(key) is None
    other = (("a",), 10 * DAY_MS, 11 * DAY_MS, "hour", 0)
    assert cache.put(other, "z", started_s=cache.started())
    cache.set_live(False)  # a disconnect: what the store got meanwhile is unknown
    cache.set_live(True)
    assert cache.get(other) is None and len(cache) == 0


def test_the_least_recently_used_answer_goes_first() -> None:
    cache: KpiCache[int] = KpiCache(max_entries=2, settle_s=0.0)
    cache.set_live(True)
    keys = [(("a",), k * DAY_MS, (k + 1) * DAY_MS, "day", 0) for k in range(3)]
    cache.put(keys[0], 0, started_s=cache.started())
    cache.put(keys[1], 1, started_s=cache.started())
    assert cache.get(keys[0]) == 0
    cache.put(keys[2], 2, started_s=cache.started())
    assert [cache.get(k) for k in keys] == [0, None, 2]


# Byte for byte: the answers kept per view and format are those computed from the store.

SITES = ("tintoria-rossi", "lanificio-bianchi", "logistica-prato", "depuratore")
ASKS = (  # the operator first: the others find the figures (and the site's rows) kept
    ("operator", f"/api/v1/sites/{SITE}/kpis"), ("operator", "/api/v1/district/kpis"),
    ("manager", f"/api/v1/sites/{SITE}/kpis"), ("manager", "/api/v1/district/kpis"),
    ("public", "/api/v1/district/kpis"), ("anonymous", "/api/v1/district/kpis"),
    ("authority", "/api/v1/district/kpis"),  # the municipality sees the public's rows
)


@pytest.fixture(scope="module")
def uncached(api_server: ApiServer) -> Iterator[str]:
    """The same API over the same store keeping no KPI answer and no closed day (api/energy_archive.py):
    each answer computed from the store's counters."""
    server, thread, url = serve(api_server.settings.model_copy(update={"kpi_cache_entries": 0,
                                                                       "archive_days": 0}))
    yield url
    server.should_exit = True
    thread.join(timeout=10)


Answers = dict[tuple[str, str, str], httpx.Response]


def _answers(api_server: ApiServer, url: str, window: dict[str, str]) -> Answers:
    tokens = {"operator": api_server.operator.token, "manager": api_server.manager_a.token,
              "public": api_server.public_token, "anonymous": None,
              "authority": api_server.authority.token if api_server.authority else None}
    out = {}
    for who, path in ASKS:
        headers = {"Authorization": f"Bearer {tokens[who]}"} if tokens[who] else {}
        for fmt in ("json", "csv"):
            r = httpx.get(url + path, params={**window, "format": fmt}, headers=headers, timeout=30)
            assert r.status_code == 200, (who, path, r.text)
            out[who, path, fmt] = r
    return out


def _same(a: Answers, b: Answers) -> bool:
    def head(r: httpx.Response) -> list[str | None]:
        return [r.headers.get(h) for h in ("content-type", "content-length", "content-disposition")]

    return a.keys() == b.keys() and all(a[k].content == b[k].content and head(a[k]) == head(b[k]) for k in a)


def test_kept_answers_are_byte_identical_to_computed_ones_for_every_view(api_server: ApiServer,
                                                                         uncached: str) -> None:
    # Three hours 80 days ago (no other test writes within a week of them): every site imports
    # (2.0 to 3.5 kWh a quarter), Rossi and Bianchi export (0.25 and 0.125 kWh), only Rossi has
    # PV. Three views: the operator sees every total; Rossi's manager the PV (no other firm's in
    # it) but not the export (Bianchi's alone besides Rossi's); the public neither (one or two firms).
    start_ms = (int(time.time() * 1000) - 80 * DAY_MS) // HOUR_MS * HOUR_MS
    exports = {"tintoria-rossi": 250.0, "lanificio-bianchi": 125.0}
    readings = [Reading(DISTRICT, site, "main-meter", METER, start_ms + k * 900_000, 2000 + k,
                        {"energy_import_wh": 1e6 + (2000.0 + 500.0 * i) * k,
                         "energy_export_wh": 1e5 + exports.get(site, 0.0) * k})
                for i, site in enumerate(SITES) for k in range(13)]
    readings += [Reading(DISTRICT, SITE, "pv-inverter", DeviceKind.PV_INVERTER, start_ms + k * 900_000,
                         2000 + k, {"pv_energy_wh": 5e5 + 1000.0 * k}) for k in range(13)]
    write(api_server, readings)
    window = {"from": _iso(start_ms), "to": _iso(start_ms + 3 * HOUR_MS), "period": "hour"}

    computed = _answers(api_server, uncached, window)
    district = "/api/v1/district/kpis"
    seen = {who: [(r["pv_kwh"], r["export_kwh"]) for r in computed[who, district, "json"].json()]
            for who in ("operator", "manager", "public")}
    assert seen == {"operator": [(4.0, 1.5)] * 3, "manager": [(4.0, None)] * 3, "public": [(None, None)] * 3}
    public_rows = computed["public", district, "json"].json()
    assert [r["import_kwh"] for r in public_rows] == [44.0, 44.0, 44.0]  # (2 + 2.5 + 3 + 3.5) * 4
    assert computed["authority", district, "json"].content == computed["public", district, "json"].content
    first = _answers(api_server, api_server.url, window)  # computed, then kept
    kept = _answers(api_server, api_server.url, window)
    assert _same(first, computed) and _same(kept, computed)

    # Rossi's reading at 01:00 corrected 1 kWh up, straight into the store: the kept answers stay
    # (what shows that they are kept), the computed ones change, for every view.
    corrected = Reading(DISTRICT, SITE, "main-meter", METER, start_ms + HOUR_MS, 2004,
                        {"energy_import_wh": 1e6 + 2000.0 * 4 + 1000.0, "energy_export_wh": 1e5 + 250.0 * 4})
    write_unseen(api_server, [corrected])
    changed = _answers(api_server, uncached, window)
    assert all(changed[k].content != computed[k].content for k in computed)
    assert _same(_answers(api_server, api_server.url, window), computed)
    # The reading arrives on the live subscription: every view's kept answer is dropped.
    publish(api_server.mosquitto, SITE, [Telemetry(ts=corrected.ts_ms, seq=corrected.seq, device="main-meter",
                                                   kind=METER, values=dict(corrected.values))])
    deadline = time.monotonic() + 5
    while not _same(now := _answers(api_server, api_server.url, window), changed):
        assert time.monotonic() < deadline, "a kept answer outlived a reading in its reach"
        time.sleep(0.05)
    assert _same(now, changed)
    assert [r["import_kwh"] for r in now["public", district, "json"].json()] == [45.0, 43.0, 44.0]
