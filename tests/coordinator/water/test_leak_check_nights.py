"""The leak check with issue 20's night model, end to end (SQLite store, real Mosquitto): declared
night shifts (registry and API events) raise nothing, and a leak is told during the night with
its estimated volume and cost."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from coordinator.water import LeakSettings, check_leaks
from nzd.accounting.water_calendar import night_shift_key
from nzd.config import DistrictConfig, SiteConfig, WaterConfig, WaterMeterConfig
from nzd.store import Event, EventKind
from nzd.store.sqlite import SqliteStore
from tests.coordinator.water.months import ROME, local_s
from tests.coordinator.water.test_leaks import write_flow
from tests.coordinator.water.test_night_types import LEGIT_M3H, day, firm_month
from tests.harness import MosquittoServer

STEP_S = 300
SETTINGS = LeakSettings(bucket_s=STEP_S)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(path=tmp_path / "nzd.sqlite")
    await s.open()
    yield s
    await s.close()


async def test_shifts_raise_nothing_and_a_leak_is_told_during_the_night(
    mosquitto: MosquittoServer, store: SqliteStore
) -> None:
    name = f"nights-{uuid.uuid4().hex[:8]}"
    config = DistrictConfig(district=name, timezone=ROME, sites=[SiteConfig(
        id="tintoria", name="Tintoria", water=WaterConfig(
            meters=[WaterMeterConfig(device="intake-public", role="intake", source="public",
                                     legit_night_use_m3h=LEGIT_M3H)],
            night_shifts=[day(10)], price_eur_per_m3={"public": 2.0}))])
    t, flow = firm_month(days=17, leak_m3h=0.5, leak_from_s=local_s(15, 14), shift_days=(10, 12))
    every = STEP_S // 60
    await write_flow(store, district=name, device="intake-public", t=t[::every], flow=flow[::every])
    # The night of day 12 is declared through the API (a STATUS event of the site).
    await store.write_events([Event(EventKind.STATUS, name, "tintoria", int(local_s(11, 9) * 1000),
                                    night_shift_key(day(12)), {"night": day(12).isoformat(),
                                                               "declared": True, "user": "rossi"})])
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as mqtt:
        for d in range(5, 16):  # every morning up to the leak's first night
            report = await check_leaks(store=store, mqtt=mqtt, district=config,
                                       now_ms=int(local_s(d, 7) * 1000), settings=SETTINGS)
            assert report.errors == [] and report.raised == [], (d, report.raised)
        # 01:30 in the night of day 15: the quiet window has run 3.5 hours above the threshold.
        report = await check_leaks(store=store, mqtt=mqtt, district=config,
                                   now_ms=int(local_s(16, 1.5) * 1000), settings=SETTINGS)
    (alert,) = report.raised
    assert alert.kind == "night_flow_leak" and alert.id.endswith(day(15).strftime("%Y%m%d"))
    assert "not over" in alert.message
    # (0.65 - 0.15) x 24 h = 12 m3/day at 2 EUR/m3.
    volume = re.search(r"estimated leakage ([0-9.]+) m3/day", alert.message)
    cost = re.search(r"about ([0-9.]+) EUR/day", alert.message)
    assert volume and cost, alert.message
    assert float(volume.group(1)) == pytest.approx(12.0, rel=0.05)
    assert float(cost.group(1)) == pytest.approx(2.0 * float(volume.group(1)), abs=0.1)
