"""The emission inventory of a year of the example district, by hand (Covenant of Mayors layout)."""

from __future__ import annotations

import pytest
import yaml

from nzd.config import DistrictConfig
from nzd.config.inventory import DEFAULT_ELECTRICITY_T_PER_MWH, Carrier, Sector
from nzd.inventory import SiteYear, inventory
from tests.api.conftest import DISTRICT_FILE


def _district() -> DistrictConfig:
    doc = yaml.safe_load(DISTRICT_FILE.read_text())
    doc["inventory"] = {
        "electricity_t_co2_per_mwh": {2024: 0.28, 2026: 0.25},
        "sites": {"tintoria-rossi": {"fuels": [{"year": 2026, "carrier": "natural_gas", "mwh": 500.0},
                                               {"year": 2025, "carrier": "natural_gas", "mwh": 999.0}]},
                  "lanificio-bianchi": {"sector": "industry_ets"}}}
    return DistrictConfig.model_validate(doc)


def test_a_year_of_the_example_district_by_hand() -> None:
    sites = {"tintoria-rossi": SiteYear(import_kwh=800_000.0, export_kwh=10_000.0, pv_kwh=180_000.0),
             "lanificio-bianchi": SiteYear(import_kwh=300_000.0, export_kwh=0.0, pv_kwh=0.0),
             "logistica-prato": SiteYear(import_kwh=200_000.0, export_kwh=50_000.0, pv_kwh=0.0),
             "depuratore": SiteYear(import_kwh=100_000.0, export_kwh=0.0, pv_kwh=0.0)}
    cells = {(c.sector, c.carrier): c for c in inventory(_district(), 2026, sites)}
    assert set(cells) == {(Sector.INDUSTRY_NON_ETS, Carrier.GRID_ELECTRICITY),
                          (Sector.INDUSTRY_NON_ETS, Carrier.LOCAL_PV),
                          (Sector.INDUSTRY_NON_ETS, Carrier.NATURAL_GAS),
                          (Sector.INDUSTRY_ETS, Carrier.GRID_ELECTRICITY)}
    grid = cells[(Sector.INDUSTRY_NON_ETS, Carrier.GRID_ELECTRICITY)]
    assert grid.mwh == pytest.approx(800 + 200 + 100)  # Lanificio is marked ETS
    assert grid.t_co2 == pytest.approx(1100 * 0.25)  # 275 t at 2026's factor
    assert grid.contributions_mwh == (800.0, 0.0, 200.0, 100.0)
    ets = cells[(Sector.INDUSTRY_ETS, Carrier.GRID_ELECTRICITY)]
    assert (ets.mwh, ets.t_co2) == (pytest.approx(300.0), pytest.approx(75.0))
    pv = cells[(Sector.INDUSTRY_NON_ETS, Carrier.LOCAL_PV)]
    # 180 made - 10 fed in; Logistica has no PV meter
    assert (pv.mwh, pv.t_co2) == (pytest.approx(170.0), 0.0)
    gas = cells[(Sector.INDUSTRY_NON_ETS, Carrier.NATURAL_GAS)]
    assert gas.mwh == 500.0  # 2026's figure only
    assert gas.t_co2 == pytest.approx(500 * 56.1 * 3.6 / 1000)  # IPCC 56.1 t/TJ: 100.98 t


def test_the_electricity_factor_of_a_year_without_one_is_the_nearest_earlier() -> None:
    inv = _district().inventory
    assert inv.electricity_factor(2025) == 0.28
    assert inv.electricity_factor(2030) == 0.25
    assert inv.electricity_factor(2020) == DEFAULT_ELECTRICITY_T_PER_MWH
