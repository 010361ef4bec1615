"""A curious firm may not read another firm: a site manager's district figures pass the public
rule on the firms they may not see (api/public.py, ``viewer_figure``).

The site manager of Tintoria Rossi knows Rossi's own figures, so a district total minus them is
the other three firms' sum. Against the real API over real InfluxDB and Mosquitto: the district
flows (the route and the live stream), the district's plant sizes, the district water report and
the emission inventory. Where the three other firms are balanced Rossi gets the figure; where one
of them is above 85 % of their sum, or only two of them contribute, Rossi gets null, though the
public (all four firms through the rule) may get it; the operator always gets the plain figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import yaml

from api.auth.principal import PUBLIC, Principal, Role
from api.public import public_figure, viewer_figure
from nzd.messages import DeviceKind, Telemetry
from nzd.store import Reading
from tests.api.conftest import DISTRICT, DISTRICT_FILE, ApiServer, User, write
from tests.api.test_latest import publish
from tests.api.test_live import sse
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

HOUR_MS = 3_600_000
ROSSI, LANIFICIO = "tintoria-rossi", "lanificio-bianchi"
LOGISTICA, DEPURATORE = "logistica-prato", "depuratore"


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The example district with a public-water intake meter at every firm (the site manager
    'rossi' manages Tintoria Rossi)."""
    folder = tmp_path_factory.mktemp("site-manager-rule")
    district = yaml.safe_load(DISTRICT_FILE.read_text())
    intake = {"device": "intake-public", "role": "intake", "source": "public"}
    for site in district["sites"]:
        if site["id"] in (LANIFICIO, LOGISTICA):
            site["water"] = {"meters": [intake]}
        elif site["id"] == DEPURATORE:
            site["water"]["meters"].append(intake)
    path = folder / "district.yaml"
    path.write_text(yaml.safe_dump(district, sort_keys=False))
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder, district_file=path) as server:
        yield server


def test_the_rule_by_hand_on_the_firms_a_viewer_may_not_see() -> None:
    sites = [ROSSI, LANIFICIO, LOGISTICA, DEPURATORE]
    rossi = Principal(name="rossi", role=Role.SITE_MANAGER, sites=frozenset({ROSSI}))
    operator = Principal(name="operator", role=Role.OPERATOR)
    assert rossi.hidden_indexes(sites) == (1, 2, 3)
    assert PUBLIC.hidden_indexes(sites) == (0, 1, 2, 3)
    assert operator.hidden_indexes(sites) is None
    grid = [50.0, 20.0, 500.0, 30.0]  # Logistica: 91 % of the others' 550, 83 % of the district's 600
    assert public_figure(600.0, grid) == viewer_figure(600.0, grid, hidden=(0, 1, 2, 3)) == 600.0
    assert viewer_figure(600.0, grid, hidden=rossi.hidden_indexes(sites)) is None
    assert viewer_figure(600.0, grid, hidden=None) == 600.0
    assert viewer_figure(100.0, [50.0, 20.0, 0.0, 30.0], hidden=(1, 2, 3)) is None  # two other firms
    assert viewer_figure(125.0, [50.0, 20.0, 25.0, 30.0], hidden=(1, 2, 3)) == 125.0  # the largest 40 %
    # A derived figure: each input on the hidden firms; Rossi's own PV hides nobody.
    assert viewer_figure(155.0, [50.0, 20.0, 25.0, 30.0], [30.0, 0.0, 0.0, 0.0], hidden=(1, 2, 3)) == 155.0
    assert viewer_figure(155.0, [50.0, 20.0, 25.0, 30.0], [0.0, 0.0, 30.0, 0.0], hidden=(1, 2, 3)) is None


def _get(api: ApiServer, user: User | None, path: str, **params: Any) -> Any:
    with api.client(user) as c:
        r = c.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()


def _meter(site: str, device: str, kind: DeviceKind, ts: int, values: dict[str, float]) -> Reading:
    return Reading(DISTRICT, site, device, kind, ts, ts // 1000, values)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_plant_sizes_two_other_firms_with_pv_and_one_with_a_battery_are_withheld(api: ApiServer) -> None:
    # PV: Rossi 150 kWp, Lanificio 80, Logistica 400; the only battery is the depuratore's 400 kWh.
    assert (_get(api, api.operator, "/api/v1/district")["pv_kwp"],
            _get(api, api.operator, "/api/v1/district")["battery_kwh"]) == (630.0, 400.0)
    assert _get(api, None, "/api/v1/district")["pv_kwp"] == 630.0  # three firms, Logistica 63 %
    rossi = _get(api, api.manager_a, "/api/v1/district")
    # 630 - 150 = Lanificio + Logistica: two firms, each could be read by the other.
    assert rossi["pv_kwp"] is None and rossi["battery_kwh"] is None
    assert [s["id"] for s in rossi["sites"]] == [ROSSI]


def _grid(ts: int, power_w: float) -> Telemetry:
    return Telemetry(ts=ts, seq=ts // 1000, device="main-meter", kind=DeviceKind.ELECTRICITY_METER,
                     values={"active_power_w": power_w})


async def _collect(response: httpx.Response, into: list[dict[str, Any]], hello: asyncio.Event) -> None:
    async for event, data in sse(response):
        if event == "hello":
            hello.set()
        elif event == "district":
            into.append(data)


async def _until(events: list[dict[str, Any]], check: Any, what: str, *, republish: Any) -> int:
    """Index of the first district event for which ``check`` holds; the stream sends at most one a
    second, on a reading, so a reading is published again until one does."""
    deadline = time.monotonic() + 20
    seen = 0
    while True:
        for k in range(seen, len(events)):
            if check(events[k]):
                return k
        seen = len(events)
        assert time.monotonic() < deadline, f"no district event with {what}: {events[-3:]}"
        await asyncio.sleep(1.1)
        await asyncio.to_thread(republish)


async def test_district_flows_and_the_live_stream_protect_the_other_firms(api: ApiServer) -> None:
    readings: dict[str, list[Telemetry]] = {}

    def send(site: str, *messages: Telemetry) -> None:
        readings[site] = list(messages)
        publish(api.mosquitto, site, list(messages))

    def again() -> None:  # the newest state once more, with a new time: it triggers a district event
        now = int(time.time() * 1000)
        publish(api.mosquitto, LOGISTICA, [m.model_copy(update={"ts": now, "seq": now // 1000})
                                           for m in readings[LOGISTICA]])

    async with httpx.AsyncClient(base_url=api.url, timeout=60) as http, contextlib.AsyncExitStack() as stack:
        streams: dict[str, list[dict[str, Any]]] = {}
        tasks = []
        viewers = (("operator", api.operator.token), ("rossi", api.manager_a.token), ("public", None))
        for name, token in viewers:
            params = {"access_token": token} if token else {}
            response = await stack.enter_async_context(http.stream("GET", "/api/v1/live", params=params))
            hello, streams[name] = asyncio.Event(), []
            tasks.append(asyncio.create_task(_collect(response, streams[name], hello)))
            await asyncio.wait_for(hello.wait(), 10)
        try:
            now = int(time.time() * 1000)
            # Balanced: the other firms draw 20, 30 and 25 kW (the largest 40 % of 75 kW). Rossi's
            # PV is the only PV (its own), the depuratore's battery the only battery.
            await asyncio.to_thread(send, ROSSI, _grid(now, 50_000.0), Telemetry(
                ts=now, seq=now // 1000, device="pv-inverter", kind=DeviceKind.PV_INVERTER,
                values={"pv_power_w": 30_000.0}))
            await asyncio.to_thread(send, LANIFICIO, _grid(now, 30_000.0))
            await asyncio.to_thread(send, DEPURATORE, _grid(now, 25_000.0), Telemetry(
                ts=now, seq=now // 1000, device="battery-inverter", kind=DeviceKind.BATTERY,
                values={"battery_power_w": -10_000.0}))
            await asyncio.to_thread(send, LOGISTICA, _grid(now, 20_000.0))
            k = await _until(streams["operator"], lambda e: e.get("grid_w") == 125_000.0
                             and e.get("battery_w") == -10_000.0, "the balanced totals", republish=again)
            full = _get(api, api.operator, "/api/v1/district/flows")
            assert (full["grid_w"], full["pv_w"], full["battery_w"], full["load_w"]) == \
                (125_000.0, 30_000.0, -10_000.0, 145_000.0)
            rossi = _get(api, api.manager_a, "/api/v1/district/flows")
            assert rossi["grid_w"] == 125_000.0  # 50 + 20 + 30 + 25 kW by hand
            assert rossi["pv_w"] == 30_000.0  # Rossi's own plant: no other firm in it
            assert rossi["battery_w"] is None and rossi["load_w"] is None  # the depuratore's battery
            seen = await _same_dispatch(streams, streams["operator"][k]["ts_ms"])
            assert seen["rossi"].get("grid_w") == 125_000.0
            assert "battery_w" not in seen["rossi"] and "load_w" not in seen["rossi"]
            assert seen["rossi"].get("pv_w") == 30_000.0
            assert "pv_w" not in seen["public"]  # for the public Rossi's PV is one firm's

            # One other firm dominant: the depuratore draws 500 kW, 91 % of the others' 550 kW,
            # though only 83 % of the district's 600 kW: the public gets the total, Rossi does not
            # (600 - 50 would be the depuratore's draw to within 9 %).
            now = int(time.time() * 1000)
            await asyncio.to_thread(send, DEPURATORE, _grid(now, 500_000.0))
            k = await _until(streams["operator"], lambda e: e.get("grid_w") == 600_000.0,
                             "the depuratore's 500 kW", republish=again)
            assert _get(api, api.operator, "/api/v1/district/flows")["grid_w"] == 600_000.0
            assert _get(api, None, "/api/v1/district/flows")["grid_w"] == 600_000.0
            assert _get(api, api.manager_a, "/api/v1/district/flows")["grid_w"] is None
            seen = await _same_dispatch(streams, streams["operator"][k]["ts_ms"])
            assert "grid_w" not in seen["rossi"]
            assert seen["public"].get("grid_w") == 600_000.0

            # Two other firms: Logistica draws nothing (a firm reporting 0 hides nobody) and the
            # depuratore 25 kW again: Lanificio and the depuratore could read each other from it.
            now = int(time.time() * 1000)
            await asyncio.to_thread(send, DEPURATORE, _grid(now, 25_000.0))
            await asyncio.to_thread(send, LOGISTICA, _grid(now, 0.0))
            k = await _until(streams["operator"], lambda e: e.get("grid_w") == 105_000.0,
                             "Logistica at 0 kW", republish=again)
            assert _get(api, None, "/api/v1/district/flows")["grid_w"] == 105_000.0  # three firms, 48 %
            assert _get(api, api.manager_a, "/api/v1/district/flows")["grid_w"] is None
            seen = await _same_dispatch(streams, streams["operator"][k]["ts_ms"])
            assert "grid_w" not in seen["rossi"]
            assert seen["public"].get("grid_w") == 105_000.0
        finally:
            for t in tasks:
                t.cancel()


async def _same_dispatch(streams: dict[str, list[dict[str, Any]]], ts_ms: int) -> dict[str, dict[str, Any]]:
    """Each stream's district event of the dispatch whose newest reading is at ``ts_ms`` (one
    dispatch sends every viewer its own version at once)."""
    deadline = time.monotonic() + 10
    while True:
        found = {name: next((e for e in events if e.get("ts_ms") == ts_ms), None)
                 for name, events in streams.items()}
        if all(e is not None for e in found.values()):
            return {name: e for name, e in found.items() if e is not None}
        assert time.monotonic() < deadline, (ts_ms, streams)
        await asyncio.sleep(0.05)


def test_district_water_rows_and_totals_protect_the_other_firms(api: ApiServer) -> None:
    # Public water per hour, by hand: Rossi 4 m3, Lanificio 3, Logistica 2 (the first two hours,
    # then it stops), the depuratore 2.5, then 40 in the second hour, then 2.5 again.
    start = (int(time.time() * 1000) - 20 * 86_400_000) // HOUR_MS * HOUR_MS
    per_hour = {ROSSI: (4.0, 4.0, 4.0), LANIFICIO: (3.0, 3.0, 3.0), LOGISTICA: (2.0, 2.0, None),
                DEPURATORE: (2.5, 40.0, 2.5)}
    readings = []
    for site, hours in per_hour.items():
        volume = 100.0
        for k in range(13):  # every 15 minutes, 0..3 h
            if k > 0:
                rate = hours[(k - 1) // 4]
                if rate is None:
                    break
                volume += rate / 4
            readings.append(_meter(site, "intake-public", DeviceKind.WATER_FLOW_METER, start + k * 900_000,
                                   {"water_volume_m3": volume}))
    write(api, readings)
    params = {"from": _iso(start), "to": _iso(start + 3 * HOUR_MS), "period": "hour"}
    full = _get(api, api.operator, "/api/v1/district/water", **params)
    assert [r["intake_m3"] for r in full["rows"]] == [11.5, 49.0, 9.5]
    public = _get(api, None, "/api/v1/district/water", **params)
    # The public: four firms, then three, the largest 82 % and 42 %: every row shows.
    assert [r["intake_m3"] for r in public["rows"]] == [11.5, 49.0, 9.5]
    rossi = _get(api, api.manager_a, "/api/v1/district/water", **params)
    # Rossi: the others balanced (7.5 m3, the largest 40 %); the depuratore 40 of the others' 45 m3
    # (89 %); then only Lanificio and the depuratore.
    assert [r["intake_m3"] for r in rossi["rows"]] == [11.5, None, None]
    assert [r["intake_by_source_m3"]["public"] for r in rossi["rows"]] == [11.5, None, None]
    # Over the three hours the others drew 9 + 4 + 45 m3 (the depuratore 78 %): the total shows.
    assert rossi["totals"]["intake_m3"] == full["totals"]["intake_m3"] == 70.0
    assert _get(api, api.manager_a, f"/api/v1/sites/{ROSSI}/water", **params)["rows"][1]["intake_m3"] == 4.0


def test_inventory_cell_with_one_other_firm_dominant_is_withheld(api: ApiServer) -> None:
    # Grid import over one hour this year: Rossi 10 MWh, Lanificio and Logistica 1 MWh each, the
    # depuratore 20 MWh: 91 % of the others' 22 MWh, 63 % of the district's 32 MWh.
    now = datetime.now(UTC)
    year = now.year
    new_year_ms = int(datetime(year, 1, 2, tzinfo=UTC).timestamp() * 1000)  # a day in: the local year too
    start = max(int(now.timestamp() * 1000) - 30 * 86_400_000, new_year_ms) // HOUR_MS * HOUR_MS
    mwh = {ROSSI: 10.0, LANIFICIO: 1.0, LOGISTICA: 1.0, DEPURATORE: 20.0}
    readings = []
    for site, value in mwh.items():
        for k in range(5):  # 15-minute readings over an hour
            readings.append(_meter(site, "main-meter", DeviceKind.ELECTRICITY_METER, start + k * 900_000,
                                   {"energy_import_wh": 1e6 + value * 1e6 * k / 4}))
    write(api, readings)

    def grid(user: User | None) -> Any:
        inv = _get(api, user, "/api/v1/district/inventory", year=year)
        return next(r["energy_mwh"] for r in inv["rows"] if r["carrier"] == "grid_electricity"), inv

    assert grid(api.operator)[0] == pytest.approx(32.0)
    assert grid(None)[0] == pytest.approx(32.0)
    cell, inv = grid(api.manager_a)
    assert cell is None and inv["total_energy_mwh"] is None


def test_district_kpi_rows_protect_the_other_firms(api: ApiServer) -> None:
    # Grid import per hour, by hand: Rossi 10 kWh, Lanificio and Logistica 1 kWh each, the
    # depuratore 20 kWh in the first hour (91 % of the others' 22 kWh, 63 % of the district's 32)
    # and 1 kWh in the second (the others balanced).
    start = (int(time.time() * 1000) - 41 * 86_400_000) // HOUR_MS * HOUR_MS
    kwh = {ROSSI: (10.0, 10.0), LANIFICIO: (1.0, 1.0), LOGISTICA: (1.0, 1.0), DEPURATORE: (20.0, 1.0)}
    readings = []
    for site, hours in kwh.items():
        wh = 1e6
        for k in range(9):  # every 15 minutes over two hours
            if k > 0:
                wh += hours[(k - 1) // 4] * 1000.0 / 4
            readings.append(_meter(site, "main-meter", DeviceKind.ELECTRICITY_METER, start + k * 900_000,
                                   {"energy_import_wh": wh, "energy_export_wh": 0.0}))
    write(api, readings)
    params = {"from": _iso(start), "to": _iso(start + 2 * HOUR_MS), "period": "hour"}

    def imports(user: User | None) -> list[float | None]:
        rows = _get(api, user, "/api/v1/district/kpis", **params)
        return [None if r["import_kwh"] is None else round(r["import_kwh"], 3) for r in rows]

    assert imports(api.operator) == [32.0, 13.0]
    assert imports(None) == [32.0, 13.0]  # four firms, the largest 63 % and 77 %
    assert imports(api.manager_a) == [None, 13.0]  # Rossi knows its own 10 kWh
