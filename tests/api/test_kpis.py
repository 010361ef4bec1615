"""Energy and KPIs from counters written to the real InfluxDB store."""

from __future__ import annotations

import time

from nzd.messages import DeviceKind
from nzd.store import Reading
from tests.api.conftest import DISTRICT, ApiServer, write

HOUR_MS = 3_600_000


def test_hourly_kpis_follow_the_counters_and_shared_energy_is_hourly(api_server: ApiServer) -> None:
    # Two hours long ago on a clean slate: Rossi imports 10 kWh/h; Logistica exports 6 kWh/h
    # in the first hour and 0 in the second; a counter reset in the middle of Rossi's second hour.
    start_ms = (int(time.time() * 1000) - 40 * 86_400_000) // HOUR_MS * HOUR_MS
    readings = []
    for k in range(9):  # every 15 minutes, 0..2 h
        ts = start_ms + k * 900_000
        rossi = 1000.0 + 2500.0 * k if k < 6 else 2500.0 * (k - 6) + 2500.0  # reset after k=5
        logi = 500.0 + (1500.0 * k if k <= 4 else 6000.0)
        readings.append(
            Reading(
                DISTRICT,
                "tintoria-rossi",
                "main-meter",
                DeviceKind.ELECTRICITY_METER,
                ts,
                k,
                {"energy_import_wh": rossi * 1000 / 1000, "energy_export_wh": 0.0},
            )
        )
        readings.append(
            Reading(
                DISTRICT,
                "logistica-prato",
                "main-meter",
                DeviceKind.ELECTRICITY_METER,
                ts,
                k,
                {"energy_import_wh": 0.0, "energy_export_wh": logi},
            )
        )
    write(api_server, readings)
    params = {"from": _iso(start_ms), "to": _iso(start_ms + 2 * HOUR_MS), "period": "hour"}
    with api_server.client(api_server.operator) as c:
        site = c.get("/api/v1/sites/tintoria-rossi/kpis", params=params).json()
        assert [round(r["import_kwh"], 3) for r in site] == [10.0, 10.0]
        assert site[0]["self_sufficiency"] == 0.0
    with api_server.client(api_server.operator) as c:
        district = c.get("/api/v1/district/kpis", params=params).json()
    with api_server.client() as public:
        shown = public.get("/api/v1/district/kpis", params=params)
    # Two firms report (one imports, one exports): fewer than the public rule's three, so the
    # public sees no row at all, nor the energy shared between them.
    assert shown.status_code == 403 and "only 2 firm(s) report" in shown.json()["detail"]
    assert [round(r["shared_kwh"], 3) for r in district] == [6.0, 0.0]
    assert round(district[0]["incentive_eur"], 4) == round(6.0 * (110 + 11) / 1000, 4)
    assert round(district[0]["import_kwh"], 3) == 10.0 and round(district[0]["export_kwh"], 3) == 6.0


def test_kpi_periods_are_checked(api_server: ApiServer) -> None:
    with api_server.client() as c:
        r = c.get(
            "/api/v1/district/kpis", params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
        )
        assert r.status_code == 422 and r.json()["detail"] == "query.from: must be before 'to'"
        r = c.get("/api/v1/district/kpis", params={"period": "week"})
        assert r.status_code == 422 and "period" in r.json()["detail"]


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
