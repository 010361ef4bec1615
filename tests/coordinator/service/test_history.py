"""History for the forecasts, read back from a real SQLite store."""

from __future__ import annotations

import math

import numpy as np

from coordinator.forecast import forecast_district
from coordinator.model import DistrictModel
from coordinator.service._history import load_history
from nzd.config import DistrictConfig
from nzd.messages import DeviceKind
from nzd.store import Reading, SqliteStore

STEP_MS = 15 * 60_000
T0 = 1_790_000_000_000 // STEP_MS * STEP_MS


def _district() -> DistrictConfig:
    return DistrictConfig.model_validate({
        "district": "hist",
        "sites": [
            {"id": "a", "name": "A", "meters": [{"device": "grid", "role": "grid"},
                                                {"device": "bat", "role": "battery"}],
             "pv": [{"id": "roof", "kwp": 50, "device": "inv"}]},
            {"id": "b", "name": "B"},  # nothing metered
        ],
    })


async def test_load_is_grid_plus_pv_plus_battery_discharge(tmp_path):
    store = SqliteStore(path=tmp_path / "h.sqlite")
    await store.open()
    try:
        readings = []
        for i in range(4):  # two readings in each of the first two intervals
            ts = T0 + i * STEP_MS // 2
            readings += [
                Reading("hist", "a", "grid", DeviceKind.ELECTRICITY_METER, ts, i, {"active_power_w": 10e3}),
                Reading("hist", "a", "inv", DeviceKind.PV_INVERTER, ts, i, {"pv_power_w": 4_000.0}),
                Reading("hist", "a", "bat", DeviceKind.BATTERY, ts, i, {"battery_power_w": -2_000.0}),
            ]
        await store.write(readings)
        history = await load_history(store, _district(), end_ms=T0 + 3 * STEP_MS, days=1)
    finally:
        await store.close()
    assert history is not None
    assert history.end_ms == T0 + 3 * STEP_MS
    load, pv = history.window(T0, 3)
    assert load[0, :2].tolist() == [12.0, 12.0]  # 10 kW import + 4 kW PV - 2 kW charging
    assert pv[0, :2].tolist() == [4.0, 4.0]
    assert math.isnan(load[0, 2]) and np.isnan(load[1]).all()
    # The forecasts take it as it is.
    forecast = forecast_district(DistrictModel.from_config(_district()), history, start_ms=T0 + 3 * STEP_MS)
    assert forecast.load_kw.shape == (2, 96)


async def test_an_empty_store_gives_no_history(tmp_path):
    store = SqliteStore(path=tmp_path / "h.sqlite")
    await store.open()
    try:
        assert await load_history(store, _district(), end_ms=T0, days=7) is None
    finally:
        await store.close()


def test_the_months_peak_so_far_comes_from_the_grid_history() -> None:
    from coordinator.forecast._history import SiteHistory
    from coordinator.service._history import month_peak_kw

    district = DistrictConfig.model_validate({"district": "hist", "timezone": "UTC", "sites": [
        {"id": "a", "name": "A"}, {"id": "b", "name": "B"}]})
    month = 1_782_864_000_000  # 2026-07-01T00:00Z
    start = month - 4 * STEP_MS  # the last hour of June, then July
    grid = np.array([[90.0, 90.0, 90.0, 90.0, 40.0, 55.0, -20.0, 30.0],
                     [np.nan] * 8])
    history = SiteHistory(start_ms=start, step_minutes=15, load_kw=np.zeros((2, 8)), pv_kw=np.zeros((2, 8)),
                          grid_kw=grid)
    # June's 90 kW is another bill; site b has no grid readings.
    assert month_peak_kw(history, district, at_ms=month + 8 * STEP_MS) == {"a": 55.0}
    assert month_peak_kw(None, district, at_ms=month) == {}
