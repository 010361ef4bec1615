"""Each day's energy is what a careful person computes by hand, whatever the meter did.

One firm per case, each with one grid meter read every 15 minutes, importing a steady 10 kW
(2,500 Wh per quarter hour, 240 kWh per day) from 22:00 on 2025-03-09 to 01:45 on 2025-03-11 (UTC):

- flagged: the 10:00 reading is 0 and flagged ``out_of_range``: not used; 240 kWh;
- noise: the 10:00 reading is 0.5 Wh below the 09:45 one: rejected as noise; 240 kWh;
- replaced: the meter is replaced at 11:45; the new one reads 2,500 Wh at 12:00: a reset,
  the new meter counted from zero; 240 kWh;
- rollover: a 32-bit register in 0.1 Wh (declared ``rollover_wh``) wraps at 10:00; 240 kWh;
- gap: nothing between 10:00 and 12:00: the 20 kWh between the readings that bound the gap
  is spread over it, 10 kWh per hour (no 80 kW peak), and the 8 quarter hours are not covered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr

from api.settings import ApiSettings
from nzd.messages import DeviceKind
from nzd.settings import ServiceSettings
from nzd.store import Reading
from tests.api.conftest import _users_file, _write, run, serve
from tests.harness import InfluxServer, MosquittoServer

D0 = 1_741_564_800_000  # 2025-03-10T00:00Z
Q_MS = 900_000
STEP_WH = 2500.0
MODULUS = 2**32 * 0.1
CASES = ["flagged", "noise", "replaced", "rollover", "gap"]


def _district(path: Path) -> Path:
    meter = {"device": "main-meter", "role": "grid", "rated_power_kw": 100}
    doc = {"district": "hand", "timezone": "UTC", "sites": [
        {"id": case, "name": case, "grid_import_limit_kw": 100,
         "meters": [{**meter, "rollover_wh": MODULUS} if case == "rollover" else meter]}
        for case in CASES]}
    path.write_text(yaml.safe_dump(doc))
    return path


def _readings(case: str) -> list[Reading]:
    out = []
    for k in range(-8, 96 + 8):  # 22:00 the day before to 01:45 the day after
        ts = D0 + k * Q_MS
        value = 1_000_000.0 + STEP_WH * k
        quality: dict[str, str] = {}
        if case == "flagged" and k == 40:
            value, quality = 0.0, {"energy_import_wh": "out_of_range"}
        if case == "noise" and k == 40:
            value = 1_000_000.0 + STEP_WH * 39 - 0.5
        if case == "replaced" and k >= 48:
            value = STEP_WH * (k - 47)
        if case == "rollover":
            value = (MODULUS - 100_000.0 + STEP_WH * k) % MODULUS  # wraps at k = 40, 10:00
        if case == "gap" and 40 < k < 48:
            continue
        out.append(Reading("hand", case, "main-meter", DeviceKind.ELECTRICITY_METER, ts, k + 100,
                           {"energy_import_wh": value, "energy_export_wh": 0.0}, quality=quality))
    return out


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("hand")
    operator, _, _, _ = _users_file(tmp / "users.yaml")
    db = f"hand_{int(time.time())}"
    run(_write(ServiceSettings(influx_url=influxdb.url, influx_database=db),
               [r for case in CASES for r in _readings(case)], []))
    settings = ApiSettings(influx_url=influxdb.url, influx_database=db, mqtt_url=mosquitto.url,
                           district_file=_district(tmp / "district.yaml"), users_file=tmp / "users.yaml",
                           jwt_secret=SecretStr("hand-test-secret-0123456789abcdef"), log_json=True)
    server, thread, url = serve(settings)
    yield url, operator.token
    server.should_exit = True
    thread.join(timeout=10)


def _kpis(api: tuple[str, str], site: str, **params: str) -> list[dict[str, object]]:
    url, token = api
    r = httpx.get(f"{url}/api/v1/sites/{site}/kpis", params=params,
                  headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    rows: list[dict[str, object]] = r.json()
    return rows


@pytest.mark.parametrize(("case", "rejected", "present"), [
    # Without the 10:00 reading, 09:45-10:15 lies between readings 30 minutes apart: not covered.
    ("flagged", {"main-meter": {"flagged": 1}}, 94),
    ("noise", {"main-meter": {"noise": 1}}, 94),
    ("replaced", {}, 96),
    ("rollover", {}, 96),
    ("gap", {}, 88),
])
def test_each_day_is_what_a_careful_person_computes(
        api: tuple[str, str], case: str, rejected: dict[str, dict[str, int]], present: int) -> None:
    rows = _kpis(api, case, **{"from": "2025-03-10", "to": "2025-03-11", "period": "day"})
    assert len(rows) == 1
    day = rows[0]
    assert day["period_start"] == "2025-03-10T00:00:00+00:00" and day["period_start_ms"] == D0
    assert day["import_kwh"] == pytest.approx(240.0, rel=1e-9)
    assert day["rejected_readings"] == rejected
    assert day["coverage"]["import_kwh"] == {"expected_intervals": 96, "present_intervals": present}
    assert day["missing_intervals"] == 96 - present
    assert day["partial"] is False
    assert day["counter_resets"] == ({"main-meter": 1} if case == "replaced" else {})
    assert day["counter_rollovers"] == ({"main-meter": 1} if case == "rollover" else {})


def test_a_gap_is_spread_over_its_hours_and_the_peak_stays_real(api: tuple[str, str]) -> None:
    hours = _kpis(api, "gap", **{"from": "2025-03-10T09:00:00Z", "to": "2025-03-10T13:00:00Z",
                                  "period": "hour"})
    assert [h["import_kwh"] for h in hours] == pytest.approx([10.0] * 4, rel=1e-9)
    assert [h["peak_kw"] for h in hours] == pytest.approx([10.0] * 4, rel=1e-9)
    assert [h["coverage"]["import_kwh"]["present_intervals"] for h in hours] == [4, 0, 0, 4]


def test_a_day_without_data_is_null_and_cut_days_are_partial(api: tuple[str, str]) -> None:
    rows = _kpis(api, "flagged", **{"from": "2025-03-10T12:00:00", "to": "2025-03-13", "period": "day"})
    assert [r["period_start"] for r in rows] == [
        "2025-03-10T00:00:00+00:00", "2025-03-11T00:00:00+00:00", "2025-03-12T00:00:00+00:00"]
    assert [r["partial"] for r in rows] == [True, False, False]
    assert rows[0]["import_kwh"] == pytest.approx(120.0, rel=1e-9)
    # Readings end at 01:45 on the 11th: that day has 7 covered quarter hours, the 12th none.
    assert rows[1]["coverage"]["import_kwh"] == {"expected_intervals": 96, "present_intervals": 7}
    assert rows[1]["import_kwh"] == pytest.approx(17.5, rel=1e-9)
    assert rows[2]["import_kwh"] is None and rows[2]["self_sufficiency"] is None
    assert rows[2]["coverage"]["import_kwh"]["present_intervals"] == 0
