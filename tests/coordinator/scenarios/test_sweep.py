"""Sweeps in parallel: local processes and a Dask local cluster run the same code path."""

from __future__ import annotations

from pathlib import Path

import pytest
from dask.distributed import LocalCluster
from typer.testing import CliRunner

from coordinator.scenarios import load_scenario
from coordinator.scenarios._sweep import sensitivities, sweep
from nzd.cli import app
from tests.coordinator.scenarios.test_run import REGISTRY

SCENARIO = """\
name: sweep-test
district: registry.yaml
step_minutes: 60
representative_days: 4
surfaces:
  - {id: mill-roof, site: mill, area_m2: 1000}
  - {id: office-field, site: office, kind: ground, area_m2: 4000}
co2_sweep_pct: [0]
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    (tmp_path / "registry.yaml").write_text(REGISTRY)
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    return tmp_path / "scenario.yaml"


def test_dask_local_cluster_and_processes_agree(scenario_file: Path):
    specs = sensitivities(load_scenario(scenario_file), import_price_factors=[0.5, 1.5])
    assert [s.name for s in specs] == ["sweep-test-imp0.5-capex1", "sweep-test-imp1.5-capex1"]
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True) as cluster:
        on_dask = sweep(specs, dask_address=cluster.scheduler_address)
    local = sweep(specs, processes=2)
    assert [r["name"] for r in on_dask] == [s.name for s in specs]
    for a, b in zip(on_dask, local, strict=True):
        assert a["annual_cost_eur"]["full_year"] == pytest.approx(b["annual_cost_eur"]["full_year"], rel=1e-6)
    # Dearer grid power buys at least as much PV, and the field (800 EUR/kWp) only pays at the dear price.
    kwp = [sum(s["kwp"] for s in r["surfaces"]) for r in on_dask]
    assert kwp[1] >= kwp[0]


def test_cli_sweep(scenario_file: Path, tmp_path: Path):
    out = tmp_path / "sweep"
    res = CliRunner().invoke(
        app,
        [
            "scenario",
            "sweep",
            str(scenario_file),
            "--capex",
            "0.8,1.2",
            "--processes",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (
        (out / "compare.csv")
        .read_text()
        .startswith("figure,sweep-test-imp1-capex0.8,sweep-test-imp1-capex1.2")
    )
    assert (out / "sweep-test-imp1-capex0.8" / "report.html").is_file()
