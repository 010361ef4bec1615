"""Production output from a counter device: output per day and hour, counter reset included, over
a real (SQLite) store; pushed days are tested through the API in test_water.py."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from api.routes.production import QUANTITY, output_per_interval
from nzd.accounting import Period, period_edges
from nzd.config import DistrictConfig
from nzd.messages import DeviceKind
from nzd.store import Reading, SqliteStore

TZ = ZoneInfo("Europe/Rome")
H = 3_600_000


def district(production_device: str | None) -> DistrictConfig:
    water = {"meters": [{"device": "intake", "role": "intake", "source": "public"}], "production_unit": "m"}
    if production_device is not None:
        water["production_device"] = production_device
    return DistrictConfig.model_validate({"district": "d", "timezone": "Europe/Rome",
                                          "sites": [{"id": "a", "name": "A", "water": water}]})


def test_output_per_day_and_hour_from_a_counter_across_a_reset(tmp_path: Path) -> None:
    day0 = round(datetime(2026, 11, 23, tzinfo=TZ).timestamp() * 1000)
    # A loom's metre counter read hourly for two days: 10 m per hour, reset to 0 at 30 h.
    values = [100.0 + 10 * h if h < 30 else 10.0 * (h - 30) for h in range(49)]
    readings = [Reading("d", "a", "loom", DeviceKind.ANALOG_IO, day0 + h * H, h, {QUANTITY: v})
                for h, v in enumerate(values)]
    config = district("loom")
    site = config.site("a")

    async def run() -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        store = SqliteStore(path=tmp_path / "nzd.sqlite")
        await store.open()
        try:
            await store.write(readings)
            days = period_edges(start_ms=day0, end_ms=day0 + 48 * H, period=Period.DAY,
                                timezone="Europe/Rome")
            hours = period_edges(start_ms=day0, end_ms=day0 + 3 * H, period=Period.HOUR,
                                 timezone="Europe/Rome")
            per_day = await output_per_interval(store=store, district=config, site=site, edges=days,
                                                daily_edges=True)
            per_hour = await output_per_interval(store=store, district=config, site=site, edges=hours,
                                                 daily_edges=False)
            plain = district(None)
            nothing = await output_per_interval(store=store, district=plain, site=plain.site("a"),
                                                edges=days, daily_edges=True)
            return per_day, per_hour, nothing
        finally:
            await store.close()

    per_day, per_hour, nothing = asyncio.run(run())
    assert per_day is not None and per_hour is not None
    # Day 1 (h 0..24): 24 x 10 m. Day 2 (h 24..48): 5 steps up to 390 m at h 29, the reset step
    # to 0 at h 30 (counted from zero: 0 m), then 18 steps to 180 m: 50 + 0 + 180 = 230 m.
    np.testing.assert_allclose(per_day, [240.0, 230.0])
    np.testing.assert_allclose(per_hour, [10.0, 10.0, 10.0])
    assert nothing is None  # neither a counter nor pushed days: no intensity at all
