"""A whole scenario: a two-firm registry, an EPW typical year written here, the CLI's output folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from coordinator.scenarios import load_scenario, representative_days, run_scenario, scenario_year
from nzd.cli import app

REGISTRY = """\
district: two-firms
latitude: 43.88
longitude: 11.10
tariff: {import_eur_per_kwh: 0.25, export_eur_per_kwh: 0.06, incentive_eur_per_mwh: 110,
         valorisation_eur_per_mwh: 10, emission_g_per_kwh: 300}
sites:
  - {id: mill, name: Mill, load_profile: g3, annual_load_kwh: 400000, grid_import_limit_kw: 300}
  - {id: office, name: Office, load_profile: g1, annual_load_kwh: 100000, grid_import_limit_kw: 100}
"""


def _write_epw(path: Path) -> None:
    """A typical year of clear days: GHI a half sine from 6 to 18 h, 800 W/m2 at noon, 20 °C."""
    header = [
        "LOCATION,Prato,TOS,ITA,test,000000,43.88,11.10,1.0,60.0",
        "DESIGN CONDITIONS,0",
        "TYPICAL/EXTREME PERIODS,0",
        "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        "COMMENTS 1,written by a test",
        "COMMENTS 2,",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    rows = []
    days_in_month = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for month, n in enumerate(days_in_month, start=1):
        for day in range(1, n + 1):
            for hour in range(1, 25):
                ghi = (
                    max(0.0, 800.0 * np.sin(np.pi * (hour - 0.5 - 6) / 12)) if 6 <= hour - 0.5 <= 18 else 0.0
                )
                dhi = 0.2 * ghi
                dni = 0.0 if ghi == 0 else 600.0
                fields = [
                    2005,
                    month,
                    day,
                    hour,
                    0,
                    "?",
                    20.0,
                    10.0,
                    50,
                    101325,
                    0,
                    0,
                    300,
                    round(ghi),
                    dni,
                    round(dhi),
                    0,
                    0,
                    0,
                    0,
                    180,
                    2.0,
                    0,
                    0,
                    20,
                    9999,
                    9,
                    999999999,
                    10,
                    0.1,
                    0,
                    88,
                    0.2,
                    0,
                    0,
                ]
                rows.append(",".join(str(f) for f in fields))
    path.write_text("\n".join(header + rows) + "\n")


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    (tmp_path / "registry.yaml").write_text(REGISTRY)
    _write_epw(tmp_path / "typical.epw")
    (tmp_path / "scenario.yaml").write_text("""\
name: two-firms-test
district: registry.yaml
step_minutes: 60
representative_days: 8
weather: {source: epw, file: typical.epw}
surfaces:
  - {id: mill-roof, site: mill, area_m2: 1000}
  - {id: office-roof, site: office, area_m2: 3000, max_kwp: 400}
batteries:
  - {id: shared, site: mill, owners: {mill: 0.5, office: 0.5}, eur_per_kwh: 2000, eur_per_kw: 500}
co2_sweep_pct: [0, 10]
""")
    return tmp_path / "scenario.yaml"


def test_epw_year_and_representative_days(scenario_file: Path):
    year = scenario_year(load_scenario(scenario_file))
    y = year.inputs.surfaces.yield_kw_per_kwp
    assert y.shape == (2, 8760)
    # Clear days, no PV at night, at most 1 kW per kWp.
    assert y.max() <= 1.0 and y[:, :5].max() == 0.0 and y.max() > 0.5
    rd = representative_days(year.inputs, steps_per_day=24, n_days=8)
    assert rd.weights.sum() == 365
    assert rd.inputs.n_steps == 24 * rd.days.size
    # The day of the year with the highest district load is kept as a day of its own.
    daily = year.inputs.load_kw.sum(axis=0).reshape(365, 24).sum(axis=1)
    assert int(daily.argmax()) in rd.days.tolist()


def test_scenario_results(scenario_file: Path):
    result = run_scenario(load_scenario(scenario_file))
    kwp = {s["id"]: s["kwp"] for s in result["surfaces"]}
    # PV at 950 EUR/kWp is far cheaper than 0.25 EUR/kWh: the mill's roof (200 kWp) is full.
    assert kwp["mill-roof"] == pytest.approx(200.0, rel=1e-6)
    # A battery at 2000 EUR/kWh cannot be repaid by any spread here: none.
    assert result["batteries"][0]["kwh"] == pytest.approx(0.0, abs=1e-6)
    y, b = result["year"], result["baseline_year"]
    assert y["self_sufficiency"] > b["self_sufficiency"]
    assert result["co2_avoided_t_per_year"] == pytest.approx(b["co2_t"] - y["co2_t"])
    # The statute's split hands out the configurations' incentive, less the fund's 10 %... at most all of it.
    assert sum(f["incentive_eur"] for f in result["firms"]) == pytest.approx(y["statute_incentive_eur"])
    assert result["finance"]["npv_eur"] > 0 and result["finance"]["irr"] is not None
    assert abs(result["annual_cost_eur"]["relative_difference"]) < 0.05
    curve = [p for p in result["co2_curve"] if p["feasible"]]
    assert curve[0]["reduction_pct"] == 0
    _check_parts(result)
    if len(curve) > 1:
        assert (
            curve[1]["co2_t"] < curve[0]["co2_t"]
            and curve[1]["annual_cost_eur"] >= curve[0]["annual_cost_eur"]
        )


def _check_parts(result: dict) -> None:
    """Every firm's part of a district figure (what the API's public rule works on) adds up to it."""
    c, sites = result["contributions"], result["sites"]
    for block in ("year", "baseline_year"):
        for k in ("consumption_kwh", "import_kwh", "export_kwh", "pv_kwh", "energy_cost_eur", "co2_t",
                  "statute_incentive_eur"):
            assert len(c[block][k]) == len(sites)
            assert sum(c[block][k]) == pytest.approx(result[block][k], rel=1e-9, abs=1e-9)
        # consumption = import - export + PV + storage's output (the shared battery is sized to zero)
        assert c[block]["balance_rest_kwh"] == pytest.approx([0.0] * len(sites), abs=1e-6)
    for k in ("consumption_kwh", "import_kwh", "export_kwh", "pv_kwh"):
        assert np.asarray(c["monthly"][k]).sum(axis=0) == pytest.approx(result["monthly"][k])
    for k in ("load_kw", "pv_kw", "import_kw", "export_kw"):
        assert np.asarray(c["typical_day"][k]).sum(axis=0) == pytest.approx(result["typical_day"][k])
    money = c["money"]
    assert sum(money["capex_eur"]) == pytest.approx(result["capex_eur"])
    assert sum(money["benefit_eur"]) == pytest.approx(result["finance"]["yearly_benefit_eur"])
    # The LP's cost: the firms' annuities, O&M and energy, less the shared energy's value.
    full = c["annual_cost"]["full_year"]
    assert sum(full["cost_eur"]) - result["year"]["incentive_eur"] == pytest.approx(
        result["annual_cost_eur"]["full_year"], rel=1e-6
    )
    for point, parts in zip(result["co2_curve"], c["co2_curve"], strict=True):
        if point["feasible"]:
            assert sum(parts["co2_t"]) == pytest.approx(point["co2_t"])
            assert sum(parts["pv_kwp"]) == pytest.approx(point["pv_kwp"])
        else:
            assert parts is None


def test_cli_run_and_compare(scenario_file: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "out"
    res = runner.invoke(app, ["scenario", "run", str(scenario_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "kWp PV" in res.output
    for name in (
        "result.json",
        "report.html",
        "surfaces.csv",
        "firms.csv",
        "cost_co2.png",
        "monthly_balance.png",
        "cash_flow.png",
        "typical_day.png",
    ):
        assert (out / name).is_file(), name
    assert (out / "cost_co2.png").read_bytes()[:4] == b"\x89PNG"
    assert "mill-roof" in (out / "report.html").read_text()
    result = json.loads((out / "result.json").read_text())
    assert result["name"] == "two-firms-test"
    res = runner.invoke(app, ["scenario", "compare", str(out), str(out), "--csv", str(tmp_path / "cmp.csv")])
    assert res.exit_code == 0, res.output
    assert "NPV EUR" in res.output and (tmp_path / "cmp.csv").read_text().startswith("figure,")


def test_cli_rejects_a_bad_scenario(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("name: x\ndistrict: nowhere.yaml\nsurfaces: [{id: a, site: b}]\n")
    res = CliRunner().invoke(app, ["scenario", "run", str(tmp_path / "bad.yaml")])
    assert res.exit_code == 2
    assert "area_m2" in res.output
