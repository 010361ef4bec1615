"""History and KPI routes answer CSV on Accept: text/csv or ?format=csv, with ISO local timestamps."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from nzd.messages import DeviceKind
from nzd.store import Reading
from tests.api.conftest import DISTRICT, ApiServer, write

HOUR_MS = 3_600_000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def test_kpis_and_history_as_csv(api_server: ApiServer) -> None:
    # A winter hour (Rome is UTC+1, so 09:00 UTC is 10:00+01:00): Bianchi imports 10 kWh at 10 kW.
    start_ms = int(datetime(2025, 1, 20, 9, tzinfo=UTC).timestamp() * 1000)
    write(api_server, [Reading(DISTRICT, "lanificio-bianchi", "main-meter", DeviceKind.ELECTRICITY_METER,
                               start_ms + k * 900_000, k,
                               {"energy_import_wh": 1000.0 + 2500.0 * k, "energy_export_wh": 0.0,
                                "active_power_w": 10_000.0})
                       for k in range(5)])
    params = {"from": _iso(start_ms), "to": _iso(start_ms + HOUR_MS), "period": "hour"}
    local = "2025-01-20T10:00:00+01:00"
    with api_server.client(api_server.operator) as c:
        by_accept = c.get("/api/v1/sites/lanificio-bianchi/kpis", params=params,
                          headers={"Accept": "text/csv"})
        by_format = c.get("/api/v1/sites/lanificio-bianchi/kpis", params={**params, "format": "csv"})
        as_json = c.get("/api/v1/sites/lanificio-bianchi/kpis", params=params).json()
        history = c.get("/api/v1/sites/lanificio-bianchi/history",
                        params={"from": params["from"], "to": params["to"], "quantities": "active_power_w",
                                "format": "csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.text == by_format.text
    rows = list(csv.DictReader(io.StringIO(by_accept.text)))
    assert [r["period_start"] for r in rows] == [local]
    assert float(rows[0]["import_kwh"]) == as_json[0]["import_kwh"] == 10.0
    lines = list(csv.reader(io.StringIO(history.text)))
    assert lines[0] == ["time", "device", "active_power_w"]
    assert lines[1] == [local, "main-meter", "10000.0"]
    assert len(lines) == 1 + 4  # [from, to): the reading at the hour's end is the next hour's
