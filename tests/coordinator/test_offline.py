"""Offline simulation and `nzd plan`: day-by-day plans against the baseline, CSV and PNG out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coordinator.model import DistrictModel
from coordinator.offline import read_history_csv, simulate, simulated_history, write_csv, write_png
from nzd.cli.app import app
from nzd.config import DistrictConfig

DAY = 86_400_000
START = 1_781_474_400_000  # 2026-06-15 00:00 Europe/Rome

YAML = """\
district: mini
timezone: Europe/Rome
tariff: {import_eur_per_kwh: 0.25, export_eur_per_kwh: 0.08}
sites:
  - id: sun
    name: Sunny roof
    annual_load_kwh: 50000
    pv: [{id: roof, kwp: 150}]
  - id: mill
    name: Mill
    annual_load_kwh: 120000
    load_profile: g3
    batteries: [{id: bat, capacity_kwh: 100, charge_kw: 50, discharge_kw: 50}]
    flexible_loads: [{id: batch, energy_kwh: 60, power_kw: 30, earliest_start: "06:00", deadline: "20:00",
                      min_run_minutes: 120}]
"""


def _model(tmp_path: Path) -> tuple[DistrictModel, Path]:
    path = tmp_path / "district.yaml"
    path.write_text(YAML)
    import yaml

    return DistrictModel.from_config(DistrictConfig.model_validate(yaml.safe_load(YAML))), path


def test_simulation_beats_the_baseline_and_writes_csv_and_png(tmp_path: Path) -> None:
    model, _ = _model(tmp_path)
    history = simulated_history(model, start_ms=START - 28 * DAY, end_ms=START + 2 * DAY)
    seen: list[str] = []
    sim = simulate(model, history, start_ms=START, days=2, forecast="forecast",
                   on_day=lambda d: seen.append(d.status))
    assert seen == ["optimal", "optimal"]
    assert sim.cost_eur < sim.baseline_cost_eur
    assert sim.shared_kwh >= sim.baseline_shared_kwh - 1e-6
    write_csv(sim, tmp_path / "plan.csv")
    write_png(sim, tmp_path / "plan.png")
    rows = list(csv.DictReader((tmp_path / "plan.csv").open()))
    assert len(rows) == 2 * 96
    assert rows[0]["time_utc"] == "2026-06-14T22:00:00Z"
    assert (tmp_path / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_csv_round_trip_and_gap_error(tmp_path: Path) -> None:
    model, _ = _model(tmp_path)
    path = tmp_path / "history.csv"
    lines = ["time,site,load_kw,pv_kw"]
    for i in range(96):
        for site in ("sun", "mill"):
            lines.append(f"{START + i * 900_000},{site},10,{5 if 30 < i < 70 else 0}")
    path.write_text("\n".join(lines) + "\n")
    hist = read_history_csv(path, model)
    assert hist.load_kw.shape == (2, 96)
    sim = simulate(model, hist, start_ms=START, days=1)
    assert len(sim.days) == 1
    with pytest.raises(ValueError, match="does not cover"):
        simulate(model, hist, start_ms=START + DAY, days=1)
    path.write_text("time,site,load_kw,pv_kw\n0,elsewhere,1,1\n")
    with pytest.raises(ValueError, match=r"history\.csv:2"):
        read_history_csv(path, model)


def test_nzd_plan_command(tmp_path: Path) -> None:
    _, yaml_path = _model(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "-d", str(yaml_path), "--start", "2026-06-15", "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["days"] == 1 and summary["savings_vs_do_nothing_eur"] > 0
    # Savings against both baselines, named (each firm planned alone; doing nothing).
    assert summary["savings_vs_fair_baseline_eur"] >= 0
    assert summary["cost_eur"] <= summary["fair_baseline_cost_eur"]
    assert "savings_vs_do_nothing_pct" in summary and "savings_vs_fair_baseline_pct" in summary
    assert (out / "plan.csv").exists() and (out / "plan.png").exists()
    bad = CliRunner().invoke(app, ["plan", "-d", str(yaml_path), "--start", "15/06/2026"])
    assert bad.exit_code == 2
    assert "YYYY-MM-DD" in bad.output


STORE_YAML = """\
district: mini
timezone: Europe/Rome
sites:
  - id: sun
    name: Sunny roof
    meters: [{device: main, role: grid}, {device: inverter, role: pv}]
    pv: [{id: roof, kwp: 150, device: inverter}]
  - id: mill
    name: Mill
    meters: [{device: main, role: grid}]
    batteries: [{id: bat, capacity_kwh: 100, charge_kw: 50, discharge_kw: 50}]
"""


def test_nzd_plan_over_stored_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from nzd.messages import DeviceKind
    from nzd.store.base import Reading
    from nzd.store.sqlite import SqliteStore

    db = tmp_path / "nzd.sqlite"
    readings = []
    for i in range(96):
        ts = START + i * 900_000
        pv_w = 100_000.0 if 36 <= i < 64 else 0.0
        meter = DeviceKind.ELECTRICITY_METER
        readings += [
            Reading("mini", "sun", "main", meter, ts, i, {"active_power_w": 20_000 - pv_w}),
            Reading("mini", "sun", "inverter", DeviceKind.PV_INVERTER, ts, i, {"pv_power_w": pv_w}),
            Reading("mini", "mill", "main", meter, ts, i, {"active_power_w": 40_000.0}),
        ]

    async def fill() -> None:
        store = SqliteStore(path=db)
        await store.open()
        await store.write(readings)
        await store.close()

    asyncio.run(fill())
    monkeypatch.setenv("NZD_SQLITE_PATH", str(db))
    monkeypatch.delenv("NZD_INFLUX_URL", raising=False)
    path = tmp_path / "district.yaml"
    path.write_text(STORE_YAML)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "-d", str(path), "--start", "2026-06-15", "--from-store",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    # The mill's battery stores the roof's noon surplus for the mill's evening: more is shared.
    assert summary["shared_kwh"] > summary["do_nothing_shared_kwh"]
    rows = list(csv.DictReader((out / "plan.csv").open()))
    assert float(rows[40]["pv_kw"]) == pytest.approx(100.0)
    assert float(rows[40]["load_kw"]) == pytest.approx(60.0)
    empty = CliRunner().invoke(app, ["plan", "-d", str(path), "--start", "2026-01-15", "--from-store"])
    assert empty.exit_code == 2
    assert "no grid readings" in empty.output
