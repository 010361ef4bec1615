"""Acceptance of issue 15: ``nzd demo`` lives on one district clock and shows the district coordinating.

The demo runs as a user runs it, from 07:00 of its clear June weekday at 360x, until simulated
20:00 (13 simulated hours, about 2.5 minutes). Everything is then read from the store the demo
wrote: the community battery charges in the sun and empties at dusk, a dyeing batch runs at midday,
the recycled-water tank is pumped in the PV peak, the first plan's PV forecast matches the simulated
PV, and the day's figures (peak demand, shared energy) are those of the simulated plant. The
water meter the demo silences from 08:30 to 09:30 raises a device_offline alert that clears once
it answers again, seen by the operator and not by another firm's manager.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from nzd import series
from nzd.cli.demo._scenario import SITES as DEMO_SITES
from nzd.clock import Clock
from nzd.store.base import EventKind, Series
from nzd.store.sqlite import SqliteStore
from tests.e2e.test_demo import Demo, _login, demo_factory, wait_for  # noqa: F401 (fixture)

SPEED = 360.0
ROME = ZoneInfo("Europe/Rome")
DAY = datetime(2026, 6, 17, tzinfo=ROME)
END = DAY.replace(hour=20)


def at(hour: float) -> int:
    """Epoch ms of a local time of the demo day."""
    return int(DAY.timestamp() * 1000 + hour * 3_600_000)


def hour_of(ms: int) -> float:
    t = datetime.fromtimestamp(ms / 1000, ROME)
    return t.hour + t.minute / 60 + t.second / 3600


def values(ser: list[Series], device: str, quantity: str) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    for s in ser:
        if s.device == device and quantity in s.values:
            out += [(t, v) for t, v in zip(s.times_ms, s.values[quantity], strict=True) if v is not None]
    return sorted(out)


async def read_store(path: Path) -> tuple[dict[str, list[Series]], list[dict[str, object]],
                                         list[dict[str, Any]]]:
    store = SqliteStore(path=path)
    await store.open()
    try:
        readings = {}
        for site in ("comunita-energetica", "tintoria-rossi", "rifinizione-verdi", "depuratore-baciacavallo",
                     *[s.id for s in DEMO_SITES if s.pv_kwp]):
            readings[site] = await store.history(
                district="prato-demo", site=site, start_ms=at(7), end_ms=at(20),
                quantities=("battery_soc_pct", "load_power_setpoint_w", "pump_flow_setpoint_m3h",
                            "pv_power_w"))
        plans = await store.events(EventKind.PLAN, district="prato-demo", limit=500)
        alerts = await store.events(EventKind.ALERT, district="prato-demo", limit=500)
        return readings, [e.document for e in plans], [e.document for e in alerts]
    finally:
        await store.close()


def test_a_simulated_day_from_seven_shows_the_district_coordinating(
        demo_factory: Callable[..., Demo]) -> None:  # noqa: F811
    demo = demo_factory("--speed", f"{SPEED:g}", "--poll-interval", "1")
    demo.wait_ready()
    assert "from Wed 17 Jun 2026 07:00" in demo.output()
    token = _login(demo, "operator")
    auth = {"Authorization": f"Bearer {token}"}
    clock = httpx.get(f"{demo.url}/api/v1/clock", timeout=10).json()
    assert clock["simulated"] and clock["speed"] == SPEED
    assert at(7) <= clock["now_ms"] < at(10), "the API lives in simulated time from 07:00"
    # until simulated 20:00, then the day's KPIs through the API (read from the store) and stop
    sim = Clock.simulated(start_ms=clock["now_ms"], speed=SPEED)
    wait_for(lambda: sim.now_ms() >= at(20.1), what="simulated 20:00", demo=demo,
             timeout_s=(at(20.1) - clock["now_ms"]) / 1000 / SPEED + 60)
    day = httpx.get(f"{demo.url}/api/v1/district/kpis", params={"period": "day"}, headers=auth,
                    timeout=30).json()
    listed = httpx.get(f"{demo.url}/api/v1/alerts", params={"active_only": False}, headers=auth,
                       timeout=30).json()
    tintoria = {"Authorization": f"Bearer {_login(demo, 'tintoria')}"}
    listed_tintoria = httpx.get(f"{demo.url}/api/v1/alerts", params={"active_only": False}, headers=tintoria,
                                timeout=30).json()
    assert demo.interrupt() == 0
    readings, plans, alerts = asyncio.run(read_store(demo.workdir / "nzd.sqlite"))

    # the water meter silenced from 08:30 to 09:30: one alert, raised since about 08:30, cleared after 09:30
    silent = [a for a in alerts if a["kind"] == "device_offline" and a["site"] == "stamperia-gialli"
              and a.get("device") == "water-public"]
    assert len({a["id"] for a in silent}) == 1, silent
    raised = [a for a in silent if a["active"]]
    cleared = [a for a in silent if not a["active"]]
    # since its last reading: within a poll (6 simulated minutes at 360x) before 08:30, or within one of
    # the simulator's ticks (also 6 minutes) after it
    assert raised and 8.25 <= hour_of(raised[0]["ts"]) <= 8.7, raised
    assert "Stamperia Gialli has sent no reading since Wed 17 Jun 08:" in raised[0]["message"], raised
    # cleared by a reading from about 09:30: stamped at its cycle's start, and a cycle of the silent meter
    # lasts its three 1 s attempts, 18 simulated minutes at 360x
    assert cleared and 9.2 <= hour_of(cleared[0]["ts"]) <= 12, cleared
    assert "sends readings again since Wed 17 Jun" in cleared[0]["message"], cleared
    newest = {a["alert"]["id"]: a["alert"] for a in listed}
    assert newest[silent[0]["id"]]["active"] is False  # the operator's list: cleared
    assert all(a["alert"]["site"] == "tintoria-rossi" for a in listed_tintoria)  # a manager: their firm only

    # the community battery charges during the PV surplus and empties in the evening
    soc = values(readings["comunita-energetica"], "battery", "battery_soc_pct")
    noon = [v for t, v in soc if 10.5 <= hour_of(t) <= 11.2]
    afternoon = [v for t, v in soc if 15.5 <= hour_of(t) <= 16.5]
    evening = [v for t, v in soc if hour_of(t) >= 19.5]
    assert noon and afternoon and evening, soc
    assert max(afternoon) > min(noon) + 10, f"SOC at 10:30-11 {noon}, at 15:30-16:30 {afternoon}"
    assert min(evening) < max(afternoon) - 10, f"SOC at 15:30-16:30 {afternoon}, after 19:30 {evening}"

    # a dyeing batch starts inside the PV peak (10:00-16:00)
    starts = []
    for site in ("tintoria-rossi", "rifinizione-verdi"):
        runs = [t for t, v in values(readings[site], "batch-controller", "load_power_setpoint_w") if v > 0]
        if runs:
            starts.append(hour_of(runs[0]))
    assert any(10 <= h <= 16 for h in starts), f"batches start at {starts}"

    # the tank is pumped while PV is high
    pumped = [hour_of(t) for t, v in values(readings["depuratore-baciacavallo"], "pump",
                                             "pump_flow_setpoint_m3h") if v > 0]
    assert any(11 <= h <= 15 for h in pumped), f"pump runs at {sorted(set(round(h, 1) for h in pumped))}"

    # the first plan's PV forecast for its first hour is within 30 % of the simulated PV
    first = min((p for p in plans if p["status"] in ("optimal", "feasible")), key=lambda p: p["start_ms"])
    start = int(first["start_ms"])  # type: ignore[call-overload]
    assert at(7) <= start < at(9)
    sites = first["sites"]
    assert isinstance(sites, dict)
    forecast_kwh = sum(sum(s["pv_kw"][:4]) / 4 for s in sites.values())
    grid = start / 1000 + np.arange(0, 3600, 60.0)
    simulated_kwh = sum(float(np.mean(series.pv_power_w(s.pv_kwp, grid, lat=43.88, lon=11.10))) / 1000
                        for s in DEMO_SITES if s.pv_kwp)
    assert simulated_kwh > 50
    assert abs(forecast_kwh - simulated_kwh) <= 0.3 * simulated_kwh, (forecast_kwh, simulated_kwh)
    measured = [v for site in readings.values() for t, v in values(site, "pv-inverter", "pv_power_w")
                if start <= t < start + 3_600_000]
    assert measured, "the PV inverters' readings of that hour are in the store"

    # today's peak demand within what the simulated loads can draw; shared energy positive
    assert len(day) == 1, day
    peak_kw = day[0]["peak_kw"]
    grid_day = DAY.timestamp() + np.arange(0, 86400, 60.0)
    most_kw = sum(float(series.load_profile_w(s.load_profile, grid_day, annual_kwh=s.annual_kwh,
                                              tz="Europe/Rome").max()) / 1000 for s in DEMO_SITES)
    most_kw += 30 + 60 + 30 + 60 * 0.4  # battery, both batches, the pump at full power
    assert 0 < peak_kw <= most_kw, (peak_kw, most_kw)
    assert day[0]["shared_kwh"] > 0, day
