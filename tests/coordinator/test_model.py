"""The district model built from the example registry."""

from __future__ import annotations

import numpy as np
import pytest

from coordinator.model import DistrictModel, local_hours
from nzd.config import load_district

EXAMPLE = "firmware_configs/examples/district.yaml"


def test_example_district_as_arrays() -> None:
    model = DistrictModel.from_config(load_district(EXAMPLE))
    assert model.site_ids == ("tintoria-rossi", "lanificio-bianchi", "logistica-prato", "depuratore")
    assert model.horizon_steps == 96 and model.step_h == 0.25
    assert model.pv_kwp_per_site == pytest.approx([150, 80, 400, 0])
    b = model.batteries
    assert b.ids == ("community-battery",) and b.site_index.tolist() == [3]
    assert b.soc_min_kwh == pytest.approx([40.0]) and b.soc_max_kwh == pytest.approx([380.0])
    assert b.shares[0] == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert model.loads.earliest_start_min.tolist() == [480] and model.loads.deadline_min.tolist() == [1080]
    assert model.tanks.demand_m3h == pytest.approx([25.0])
    assert model.tanks.assets == ("recycled-pump",)
    assert model.incentive_eur_per_kwh == pytest.approx(0.121)
    assert model.import_limit_kw.tolist() == [400, 300, 250, 200]


def test_prices_follow_local_time() -> None:
    model = DistrictModel.from_config(load_district(EXAMPLE))
    # 2026-07-01 16:00 UTC is 18:00 in Rome (summer time): the 0.30 evening price.
    t = np.asarray([1_782_921_600_000], dtype=np.int64)
    assert local_hours(t, "Europe/Rome").tolist() == [18]
    imp, exp, ef = model.prices(t)
    assert imp[:, 0] == pytest.approx([0.30] * 4)
    assert exp[:, 0] == pytest.approx([0.09] * 4) and ef[:, 0] == pytest.approx([260.0] * 4)


def test_unknown_site_is_a_clear_error() -> None:
    model = DistrictModel.from_config(load_district(EXAMPLE))
    with pytest.raises(KeyError, match="unknown site 'nowhere'"):
        model.site_index("nowhere")


def test_plan_carries_the_shared_battery_owners() -> None:
    from coordinator.forecast import Forecast
    from coordinator.optimiser import plan_district

    model = DistrictModel.from_config(load_district(EXAMPLE))
    fc = Forecast(start_ms=1_782_864_000_000, step_minutes=15, load_kw=np.full((4, 96), 50.0),
                  pv_kw=np.zeros((4, 96)))
    plan = plan_district(model, fc)
    battery = plan.asset("depuratore", "community-battery")
    assert dict(battery.shares) == {"tintoria-rossi": 0.4, "lanificio-bianchi": 0.3, "logistica-prato": 0.2,
                                    "depuratore": 0.1}
    assert plan.to_document()["assets"][0]["shares"]["tintoria-rossi"] == 0.4
