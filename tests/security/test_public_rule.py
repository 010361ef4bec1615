"""Item 6: public district figures never reveal a single firm, per row, per quantity and
for derived values (the rule itself: api/public.py).

Attacks reproduced against the real API over real InfluxDB: the PV total when one firm has
metered PV, ``load_w - grid_w`` on the district flows, hourly rows after another firm stopped
reporting (two firms left), a firm above 85 % of a figure, a derived figure (consumption built
on one firm's PV), and the district's battery size.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import yaml

from api.public import public_figure, public_total
from nzd.messages import DeviceKind, Telemetry
from nzd.store import Reading
from tests.api.conftest import DISTRICT, DISTRICT_FILE, ApiServer, write
from tests.api.test_latest import publish
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

HOUR_MS = 3_600_000
ROSSI, LOGISTICA, DEPURATORE = "tintoria-rossi", "logistica-prato", "depuratore"
LANIFICIO = "lanificio-bianchi"


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("public")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder) as server:
        yield server


def _meter(site: str, device: str, kind: DeviceKind, ts: int, values: dict[str, float]) -> Reading:
    return Reading(DISTRICT, site, device, kind, ts, ts // 1000, values)


def test_district_flows_show_no_single_firms_pv_battery_or_load(api: ApiServer) -> None:
    now = int(time.time() * 1000)

    def reading(device: str, kind: DeviceKind, values: dict[str, float]) -> Telemetry:
        return Telemetry(ts=now, seq=now // 1000, device=device, kind=kind, values=values)

    # The flows come from the API's live subscription (api/latest_cache.py).
    publish(api.mosquitto, ROSSI, [
        reading("main-meter", DeviceKind.ELECTRICITY_METER, {"active_power_w": 50_000.0}),
        # Rossi's is the only metered PV of the district, the depuratore's the only battery.
        reading("pv-inverter", DeviceKind.PV_INVERTER, {"pv_power_w": 30_000.0})])
    publish(api.mosquitto, LOGISTICA, [reading("main-meter", DeviceKind.ELECTRICITY_METER,
                                               {"active_power_w": 20_000.0})])
    publish(api.mosquitto, LANIFICIO, [reading("main-meter", DeviceKind.ELECTRICITY_METER,
                                               {"active_power_w": 30_000.0})])
    publish(api.mosquitto, DEPURATORE, [reading("battery-inverter", DeviceKind.BATTERY,
                                                {"battery_power_w": -10_000.0})])
    with api.client(api.operator) as c:
        deadline = time.monotonic() + 10
        while (full := c.get("/api/v1/district/flows").json()).get("battery_w") is None \
                or full.get("grid_w") != 100_000.0:
            assert time.monotonic() < deadline, full
            time.sleep(0.02)
    assert (full["pv_w"], full["battery_w"], full["load_w"]) == (30_000.0, -10_000.0, 130_000.0)
    with api.client() as public:
        flows = public.get("/api/v1/district/flows").json()
    assert flows["grid_w"] == 100_000.0  # three firms, the largest 50 %: shown
    assert flows["pv_w"] is None and flows["battery_w"] is None
    # load_w - grid_w would be Rossi's PV plus the depuratore's battery: load_w is withheld too.
    assert flows["load_w"] is None


def test_district_battery_size_is_not_shown_for_one_firms_battery(api: ApiServer) -> None:
    with api.client() as public:
        d = public.get("/api/v1/district").json()
    assert d["battery_kwh"] is None  # only the depuratore has a battery (400 kWh)
    assert d["pv_kwp"] == 150 + 80 + 400  # three firms have PV
    with api.client(api.operator) as c:
        assert c.get("/api/v1/district").json()["battery_kwh"] == 400


def test_hourly_rows_after_a_firm_stops_reporting_are_withheld(api: ApiServer) -> None:
    # Three hours long ago: Rossi imports 40 kWh/h and Lanificio 30 kWh/h throughout, Logistica
    # 20 kWh/h for two hours and then stops reporting: the third hour has two firms.
    start = (int(time.time() * 1000) - 30 * 86_400_000) // HOUR_MS * HOUR_MS
    readings = []
    for k in range(13):  # every 15 minutes, 0..3 h
        ts = start + k * 900_000
        readings.append(_meter(ROSSI, "main-meter", DeviceKind.ELECTRICITY_METER, ts,
                               {"energy_import_wh": 1e6 + 10_000.0 * k}))
        readings.append(_meter(LANIFICIO, "main-meter", DeviceKind.ELECTRICITY_METER, ts,
                               {"energy_import_wh": 3e6 + 7_500.0 * k}))
        if k <= 8:
            readings.append(_meter(LOGISTICA, "main-meter", DeviceKind.ELECTRICITY_METER, ts,
                                   {"energy_import_wh": 2e6 + 5_000.0 * k}))
    write(api, readings)
    params = {"from": _iso(start), "to": _iso(start + 3 * HOUR_MS), "period": "hour"}
    with api.client() as public:
        rows = public.get("/api/v1/district/kpis", params=params).json()
    assert [r["import_kwh"] for r in rows] == [90.0, 90.0, None]  # 40 + 30 + 20 by hand; then two firms
    assert [r["peak_kw"] for r in rows][2] is None
    assert all(r["pv_kwh"] is None or r["pv_kwh"] == 0 for r in rows)
    assert api.authority is not None
    with api.client(api.authority) as municipality:  # the authority: the same rule
        assert [r["import_kwh"] for r in municipality.get("/api/v1/district/kpis", params=params).json()] \
            == [90.0, 90.0, None]
    with api.client(api.operator) as c:
        full = c.get("/api/v1/district/kpis", params=params).json()
    assert [r["import_kwh"] for r in full] == [90.0, 90.0, 70.0]


def test_a_firm_above_85_percent_and_figures_derived_from_one_firm_are_withheld(api: ApiServer) -> None:
    # Hour 1: Rossi imports 90 kWh, Logistica and Lanificio 5 kWh each: Rossi is 90 % of the import.
    # Hour 2: imports 40 + 30 + 30 kWh (Rossi 40 %), and Rossi's PV alone makes 10 kWh: the PV, and
    # the consumption built from it (import + PV = 110 kWh), would show Rossi's plant.
    start = (int(time.time() * 1000) - 40 * 86_400_000) // HOUR_MS * HOUR_MS
    readings = []
    for k in range(9):
        ts = start + k * 900_000
        first = min(k, 4)
        second = max(k - 4, 0)
        readings += [
            _meter(ROSSI, "main-meter", DeviceKind.ELECTRICITY_METER, ts,
                   {"energy_import_wh": 1e6 + 22_500.0 * first + 10_000.0 * second}),
            _meter(ROSSI, "pv-inverter", DeviceKind.PV_INVERTER, ts,
                   {"pv_energy_wh": 5e5 + 2_500.0 * second}),
            _meter(LOGISTICA, "main-meter", DeviceKind.ELECTRICITY_METER, ts,
                   {"energy_import_wh": 2e6 + 1_250.0 * first + 7_500.0 * second}),
            _meter(LANIFICIO, "main-meter", DeviceKind.ELECTRICITY_METER, ts,
                   {"energy_import_wh": 3e6 + 1_250.0 * first + 7_500.0 * second})]
    write(api, readings)
    params = {"from": _iso(start), "to": _iso(start + 2 * HOUR_MS), "period": "hour"}
    with api.client() as public:
        rows = public.get("/api/v1/district/kpis", params=params).json()
    assert rows[0]["import_kwh"] is None and rows[0]["co2_kg"] is None  # one firm is 90 %
    assert rows[1]["import_kwh"] == 100.0  # 40 + 30 + 30 by hand
    assert rows[1]["pv_kwh"] is None and rows[1]["consumption_kwh"] is None
    assert rows[1]["self_sufficiency"] is None
    with api.client(api.operator) as c:
        full = c.get("/api/v1/district/kpis", params=params).json()
    assert [r["import_kwh"] for r in full] == [100.0, 100.0]
    assert (full[1]["pv_kwh"], full[1]["consumption_kwh"]) == (10.0, 110.0)


def test_the_rule_by_hand_three_firms_and_none_above_85_percent() -> None:
    assert public_total([10.0, None, 0.0]) is None  # one firm
    assert public_total([10.0, 5.0]) is None  # two firms: each could read the other's
    assert public_total([10.0, 5.0, 1.0]) == 16.0  # the largest is 62.5 %
    assert public_total([90.0, 5.0, 5.0]) is None  # one firm is 90 %
    assert public_total([85.0, 10.0, 5.0]) == 100.0  # 85 % exactly is allowed
    assert public_total([80.0, 10.0, 10.0]) == 100.0
    # The parameters still select a looser rule where one is wanted.
    assert public_total([10.0, 5.0], min_firms=2, max_share=None) == 15.0
    # A derived value (load = grid + PV) shows only when each quantity it is built from would:
    # one firm's PV withholds the load, though the grid of three firms shows.
    assert public_figure(100.0, [50.0, 20.0, 30.0], [30.0, 0.0, 0.0]) is None
    assert public_figure(100.0, [50.0, 20.0, 30.0], [0.0, 0.0, 0.0]) == 100.0
    assert public_figure(120.0, [50.0, 20.0, 30.0], [18.0, 1.0, 1.0]) is None  # PV: one firm 90 %


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


@pytest.fixture(scope="module")
def two_water_firms(influxdb: InfluxServer, mosquitto: MosquittoServer,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The example district with water meters at Logistica and Lanificio too: three firms report water."""
    folder = tmp_path_factory.mktemp("public-water")
    district = yaml.safe_load(DISTRICT_FILE.read_text())
    logistica = next(s for s in district["sites"] if s["id"] == LOGISTICA)
    logistica["water"] = {"meters": [{"device": "intake-public", "role": "intake", "source": "public"}]}
    lanificio = next(s for s in district["sites"] if s["id"] == LANIFICIO)
    lanificio["water"] = {"meters": [{"device": "intake-public", "role": "intake", "source": "public"}]}
    path = folder / "district.yaml"
    path.write_text(yaml.safe_dump(district, sort_keys=False))
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder, district_file=path) as server:
        yield server


def test_hourly_water_rows_after_a_firm_stops_reporting_are_withheld(two_water_firms: ApiServer) -> None:
    api = two_water_firms
    # Rossi draws 4 m3/h public water and Lanificio 3 m3/h for three hours, Logistica 2 m3/h for
    # two hours, then stops: the third hour has two firms.
    start = (int(time.time() * 1000) - 20 * 86_400_000) // HOUR_MS * HOUR_MS
    readings = []
    for k in range(13):
        ts = start + k * 900_000
        readings.append(_meter(ROSSI, "intake-public", DeviceKind.WATER_FLOW_METER, ts,
                               {"water_volume_m3": 100.0 + 1.0 * k}))
        readings.append(_meter(LANIFICIO, "intake-public", DeviceKind.WATER_FLOW_METER, ts,
                               {"water_volume_m3": 300.0 + 0.75 * k}))
        if k <= 8:
            readings.append(_meter(LOGISTICA, "intake-public", DeviceKind.WATER_FLOW_METER, ts,
                                   {"water_volume_m3": 500.0 + 0.5 * k}))
    write(api, readings)
    params = {"from": _iso(start), "to": _iso(start + 3 * HOUR_MS), "period": "hour"}
    with api.client() as public:
        report = public.get("/api/v1/district/water", params=params).json()
    assert [r["intake_m3"] for r in report["rows"]] == [9.0, 9.0, None]  # 4 + 3 + 2 by hand; then two
    assert [r["intake_by_source_m3"]["public"] for r in report["rows"]] == [9.0, 9.0, None]
    assert report["rows"][2]["intake_change"] is None
    assert report["totals"]["intake_m3"] == 25.0  # three firms over the period: 12 + 9 + 4
    with api.client(api.operator) as c:
        full = c.get("/api/v1/district/water", params=params).json()
    assert [r["intake_m3"] for r in full["rows"]] == [9.0, 9.0, 7.0]
