"""Every Grafana dashboard is valid JSON and each of its InfluxQL queries runs against the real
InfluxDB, over points written with nzd's schema, and shows data."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from nzd.messages import DeviceKind
from nzd.store import Reading
from nzd.store.influx import reading_line
from tests.harness import InfluxServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "nzd-influxdb.yaml"
DISTRICT, SITE = "prato-est", "tintoria"

#: What Grafana puts in place of its macros and the dashboards' variables.
MACROS = {
    "$timeFilter": "time >= now() - 6h",
    "$__interval": "5m",
    "$district": DISTRICT,
    "$site": SITE,
    "$tz": "Europe/Rome",
}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def queries() -> Iterator[Any]:
    for path in DASHBOARDS:
        dashboard = load(path)
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                yield pytest.param(target["query"], id=f"{path.stem}:{panel['title']}:{target['refId']}")


def variables() -> Iterator[Any]:
    for path in DASHBOARDS:
        for var in load(path)["templating"]["list"]:
            if var["type"] == "query":
                yield pytest.param(var["name"], var["query"], id=f"{path.stem}:${var['name']}")


def substitute(query: str) -> str:
    for macro in sorted(MACROS, key=len, reverse=True):
        query = query.replace(macro, MACROS[macro])
    left = re.findall(r"\$\w+", query)
    assert not left, f"macros the test does not know: {left}"
    return query


def readings(now_ms: int) -> list[Reading]:
    """Three hours of readings every 5 minutes from each kind of device the dashboards show."""
    out: list[Reading] = []
    devices = [
        ("main-meter", DeviceKind.ELECTRICITY_METER,
         lambda i: {"active_power_w": 120_000.0 - 500 * i, "energy_import_wh": 5e6 + 10_000 * i,
                    "energy_export_wh": 1e6 + 2_000 * i}),
        ("pv-inverter", DeviceKind.PV_INVERTER, lambda i: {"pv_power_w": 80_000.0 + 100 * i}),
        ("battery-inverter", DeviceKind.BATTERY,
         lambda i: {"battery_power_w": -50_000.0, "battery_soc_pct": 40.0 + i * 0.5}),
        ("intake-public", DeviceKind.WATER_FLOW_METER,
         lambda i: {"water_flow_m3h": 12.5, "water_volume_m3": 1000.0 + i}),
        ("tank-level", DeviceKind.LEVEL_TRANSMITTER, lambda i: {"tank_level_pct": 60.0 - i * 0.1}),
    ]
    for device, kind, values in devices:
        for i in range(36):
            out.append(Reading(district=DISTRICT, site=SITE, device=device, kind=kind,
                               ts_ms=now_ms - (36 - i) * 300_000, seq=i, values=values(i)))
    return out


@pytest.fixture(scope="module")
def database(influxdb: InfluxServer) -> str:
    name = f"grafana_{uuid.uuid4().hex[:8]}"
    influxdb.query(f'CREATE DATABASE "{name}"')
    body = "\n".join(reading_line(r) for r in readings(int(time.time() * 1000)))
    r = httpx.post(f"{influxdb.url}/write", params={"db": name, "precision": "ms"}, content=body, timeout=30)
    assert r.status_code == 204, r.text
    return name


def run(influxdb: InfluxServer, database: str, query: str) -> list[dict[str, Any]]:
    # Grafana's InfluxQL datasource in POST mode sends the query in the form body.
    r = httpx.post(f"{influxdb.url}/query", params={"db": database, "epoch": "ms"},
                   data={"q": query}, timeout=30)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    for result in results:
        assert "error" not in result, f"{result['error']}\nquery: {query}"
    return results


def test_there_is_a_site_and_a_district_dashboard() -> None:
    uids = {load(p)["uid"] for p in DASHBOARDS}
    assert {"nzd-site", "nzd-district"} <= uids


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboards_are_valid_json_on_the_provisioned_datasource(path: Path) -> None:
    dashboard = load(path)
    provisioned = yaml.safe_load(DATASOURCE.read_text())["datasources"][0]
    assert provisioned["type"] == "influxdb" and provisioned["jsonData"]["version"] == "InfluxQL"
    assert dashboard["title"] and dashboard["panels"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == provisioned["uid"]
            assert target["rawQuery"] is True and target["query"].startswith("SELECT")


@pytest.mark.parametrize("query", list(queries()))
def test_each_panel_query_runs_and_shows_data(influxdb: InfluxServer, database: str, query: str) -> None:
    results = run(influxdb, database, substitute(query))
    series = [s for result in results for s in result.get("series", [])]
    assert series, f"no data for: {query}"
    values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
    assert values, f"only empty buckets for: {query}"


@pytest.mark.parametrize(("name", "query"), list(variables()))
def test_each_variable_lists_the_written_values(influxdb: InfluxServer, database: str, name: str,
                                                query: str) -> None:
    results = run(influxdb, database, substitute(query))
    found = {row[1] for result in results for s in result.get("series", []) for row in s["values"]}
    assert found == {{"district": DISTRICT, "site": SITE}[name]}
