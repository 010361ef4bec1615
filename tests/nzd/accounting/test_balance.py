"""Issue 20: water balances against hand computations."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from nzd.accounting import (
    MeterReadings,
    balance_breaches,
    firm_balance,
    recycled_network_balance,
    site_water_kpis,
)
from nzd.config import WaterConfig, WaterMeterConfig

ROME = "Europe/Rome"
DAYS = [int((datetime(2026, 6, 1, tzinfo=ZoneInfo(ROME)) + timedelta(days=k)).timestamp() * 1000)
        for k in range(3)]


def per_day(*volumes: float) -> MeterReadings:
    return MeterReadings(times_ms=DAYS, volume_m3=np.cumsum([0.0, *volumes]))


def test_a_recycled_network_losing_3_percent_is_a_breach_with_its_lost_volume() -> None:
    plant = WaterConfig(meters=[WaterMeterConfig(device="out", role="supply", source="recycled")])
    firm = WaterConfig(meters=[WaterMeterConfig(device="rec", role="intake", source="recycled"),
                               WaterMeterConfig(device="pub", role="intake", source="public")])
    sites = [site_water_kpis(water=plant, readings={"out": per_day(1000.0, 1000.0)}, edges_ms=DAYS),
             site_water_kpis(water=firm, readings={"rec": per_day(600.0, 590.0), "pub": per_day(50, 50)},
                             edges_ms=DAYS),
             site_water_kpis(water=firm, readings={"rec": per_day(385.0, 380.0)}, edges_ms=DAYS)]
    balance = recycled_network_balance(sites)
    assert balance is not None
    # Day 1: 1000 out, 985 taken in: 15 m3 (1.5 %) lost; day 2: 970 taken in: 30 m3 (3 %) lost.
    assert balance.unexplained_m3.tolist() == [15.0, 30.0]
    assert balance.unexplained_pct == pytest.approx([1.5, 3.0])
    assert balance_breaches(balance, threshold_pct=2.0).tolist() == [False, True]
    assert recycled_network_balance(sites[1:]) is None  # no supply meter: no network balance


def test_a_firms_balance_counts_discharge_and_declared_use() -> None:
    w = WaterConfig(meters=[WaterMeterConfig(device="pub", role="intake", source="public"),
                            WaterMeterConfig(device="out", role="discharge")],
                    declared_use_m3_per_day=10.0, declared_use_fraction=0.05)
    k = site_water_kpis(water=w, readings={"pub": per_day(200.0, 200.0), "out": per_day(180.0, 150.0)},
                        edges_ms=DAYS)
    b = firm_balance(k, water=w, timezone=ROME)
    # Explained: discharge + 5 % of 200 + 10 = 200 and 170: nothing, then 30 m3 (15 %) unexplained.
    assert b.explained_m3.tolist() == pytest.approx([200.0, 170.0])
    assert b.unexplained_m3 == pytest.approx([0.0, 30.0])
    assert balance_breaches(b, threshold_pct=w.balance_threshold_pct).tolist() == [False, True]
