"""The open-data package: `nzd export open-data` over the real store writes a Frictionless package
that `frictionless validate` accepts, with the public's figures: read back, its totals are the
API's, and one firm's PV is withheld and marked."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import agree_target, running_api

YEAR = 2026


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=tmp_path_factory.mktemp("open-data"),
                     seed=True) as server:
        yield server


def _export(api: ApiServer, out: Path) -> Path:
    env = {**os.environ, "NZD_INFLUX_URL": api.settings.influx_url,
           "NZD_INFLUX_DATABASE": api.settings.influx_database,
           "NZD_DISTRICT_FILE": str(api.settings.district_file), "NZD_LOG_JSON": "false"}
    done = subprocess.run([sys.executable, "-m", "nzd", "export", "open-data", "--year", str(YEAR),
                           "--out", str(out), "--publisher", "Comune di Prato"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_package_validates_and_has_the_apis_totals(api: ApiServer, tmp_path: Path) -> None:
    agree_target(api, "co2_electricity_t", {
        "baseline_year": 2025, "baseline_value": 1.0, "target_year": 2030, "target_value": 0.6})
    with api.client(api.authority) as c:  # a change still open is not published
        assert c.put("/api/v1/district/targets/co2_electricity_t", json={
            "baseline_year": 2025, "baseline_value": 1.0, "target_year": 2030, "target_value": 0.2,
        }).status_code == 202
    descriptor_path = _export(api, tmp_path / "open")
    assert descriptor_path == tmp_path / "open" / str(YEAR) / "datapackage.json"
    folder = descriptor_path.parent
    checked = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", "--json",
                              str(descriptor_path)], capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout[-2000:]
    assert json.loads(checked.stdout)["valid"] is True
    descriptor = json.loads(descriptor_path.read_text())
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["temporal"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert descriptor["dcat_ap_it"]["publisher"] == "Comune di Prato"
    assert descriptor["dcat_ap_it"]["frequency"] == "MONTHLY"

    with api.client() as public:
        months = public.get("/api/v1/district/kpis",
                            params={"from": "2026-01-01", "to": "2027-01-01", "period": "month"}).json()
        inventory = public.get("/api/v1/district/inventory", params={"year": YEAR}).json()
    energy = _rows(folder, "district_energy_monthly")
    assert [r["month"] for r in energy] == [m["period_start"][:7] for m in months]
    exported = sum(float(r["grid_import_mwh"]) for r in energy if r["grid_import_mwh"])
    assert exported == pytest.approx(sum(m["import_kwh"] or 0.0 for m in months) / 1000.0)
    assert exported == pytest.approx(4 * 0.48)  # four firms, 480 kWh each (the seeded day)
    # Only Rossi has a PV meter: its PV is withheld, and the row says so.
    december = next(r for r in energy if r["grid_import_mwh"])
    assert december["pv_mwh"] == "" and "pv_mwh" in december["suppressed"].split(";")
    cells = _rows(folder, "emission_inventory")
    grid = next(r for r in cells if r["energy_carrier"] == "Electricity (grid)")
    api_grid = next(r for r in inventory["rows"] if r["carrier"] == "grid_electricity")
    assert float(grid["final_energy_mwh"]) == pytest.approx(api_grid["energy_mwh"])
    assert float(grid["co2_t"]) == pytest.approx(api_grid["co2_t"])
    targets = _rows(folder, "targets_progress")
    assert [(t["metric"], t["target_value"]) for t in targets] == [("co2_electricity_t", "0.6")]  # agreed
    assert float(targets[0]["expected"]) == pytest.approx(0.92)  # 1.0 - 0.4 / 5 in 2026
