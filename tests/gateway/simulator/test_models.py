"""Device models move in simulated time the way the real things do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.profiles import load_profile
from gateway.simulator import SimDeviceConfig
from gateway.simulator.model import DeviceModel, Site

SITE = Site(lat=43.88, lon=11.10, tz="Europe/Rome")
T0 = datetime(2026, 6, 3, 0, 0, tzinfo=UTC).timestamp()


def model(profile: str, **series: object) -> DeviceModel:
    cfg = SimDeviceConfig.model_validate({"name": "d", "profile": profile, "noise_pct": 0,
                                          "transport": {"type": "tcp", "host": "127.0.0.1", "port": 1},
                                          **series})
    p = load_profile(profile)
    return DeviceModel(cfg, kind=p.kind, points=p.resolve(), site=SITE)


def test_battery_follows_its_setpoint_and_stops_at_the_soc_limit() -> None:
    m = model("victron_ess", battery={"capacity_kwh": 10, "max_power_kw": 5, "soc_pct": 50,
                                      "max_soc_pct": 90, "efficiency": 1.0})
    m.advance(T0)
    m.write("battery_power_setpoint_w", -4000)  # charge at 4 kW
    m.advance(T0 + 3600)
    assert m.values["battery_soc_pct"] == pytest.approx(90)  # 50 % + 4 kWh of 10 kWh
    assert m.values["battery_power_w"] == -4000
    m.advance(T0 + 7200)
    assert m.values["battery_soc_pct"] == pytest.approx(90)  # full: it stops
    assert m.values["battery_power_w"] == 0
    m.write("battery_power_setpoint_w", 9000)  # beyond the inverter: limited to 5 kW
    m.advance(T0 + 7200 + 1800)
    assert m.values["battery_power_w"] == 5000
    assert m.values["battery_soc_pct"] == pytest.approx(65)


def test_water_totaliser_integrates_flow_and_a_leak_adds_to_the_night() -> None:
    quiet = model("siemens_sitrans_mag6000", water={"daily_m3": 240, "volume_m3": 1000})
    leaky = model("siemens_sitrans_mag6000", water={"daily_m3": 240, "volume_m3": 1000, "leak_m3h": 2})
    for m in (quiet, leaky):
        for minute in range(0, 24 * 60 + 1):
            m.advance(T0 + minute * 60)
    night = T0 + 1 * 3600  # 03:00 in Rome
    assert leaky.values["water_volume_m3"] - quiet.values["water_volume_m3"] == pytest.approx(48, rel=0.01)
    assert 1000 + 150 < quiet.values["water_volume_m3"] < 1000 + 350  # a Wednesday's draw
    quiet.advance(night + 86400)
    leaky.advance(night + 86400)
    assert leaky.values["water_flow_m3h"] - quiet.values["water_flow_m3h"] == pytest.approx(2)


def test_meter_counters_integrate_net_power_and_pv_exports_at_noon() -> None:
    m = model("eastron_sdm630", load={"profile": "g1", "annual_kwh": 50_000}, pv={"kwp": 100})
    m.advance(T0 + 10 * 3600)  # noon in Rome, sunny June
    exported = m.values["energy_export_wh"]
    assert m.values["active_power_w"] < 0  # the PV covers the load and more
    m.advance(T0 + 10 * 3600 + 900)
    assert m.values["energy_export_wh"] > exported
    assert m.values["energy_total_wh"] == pytest.approx(
        m.values["energy_import_wh"] + m.values["energy_export_wh"])


def test_a_tank_falls_with_its_demand_and_rises_with_what_its_pump_delivers() -> None:
    m = model("seneca_z4ai", tank={"volume_m3": 400, "demand_m3_per_day": 480, "level_pct": 50})
    m.advance(T0)
    m.advance(T0 + 3600)  # an hour of 20 m3/h demand, no pumping: 20 of 400 m3
    assert m.values["tank_level_pct"] == pytest.approx(45)
    m.pump_flow_m3h = 60
    m.advance(T0 + 7200)  # +60 - 20 m3
    assert m.values["tank_level_pct"] == pytest.approx(55)


def test_a_written_pump_setpoint_stays_and_the_pump_runs() -> None:
    import yaml

    from gateway.profiles import Profile
    from nzd.cli.demo._scenario import PROFILES

    p = Profile.model_validate(yaml.safe_load(yaml.safe_dump(PROFILES["demo_pump_controller"])))
    cfg = SimDeviceConfig.model_validate({"name": "pump", "profile": "x", "noise_pct": 0,
                                          "transport": {"type": "tcp", "host": "127.0.0.1", "port": 1}})
    m = DeviceModel(cfg, kind=p.kind, points=p.resolve(), site=SITE)
    m.advance(T0)
    m.write("pump_flow_setpoint_m3h", 42)
    for k in (1, 2):
        m.advance(T0 + k * 60)
        assert m.values["pump_flow_setpoint_m3h"] == 42
        assert m.values["pump_running"] == 1


def test_a_grid_meter_sees_what_the_battery_behind_it_draws_or_feeds() -> None:
    meter = model("eastron_sdm630", load={"profile": "g0", "annual_kwh": 0.0})
    battery = model("victron_ess", battery={"capacity_kwh": 60, "max_power_kw": 30})
    battery.advance(T0)
    battery.write("battery_power_setpoint_w", 20_000)  # discharging 20 kW
    battery.advance(T0 + 60)
    assert battery.drawn_w() == -20_000
    meter.behind_w = battery.drawn_w()
    meter.advance(T0)
    before_wh = meter.values["energy_export_wh"]
    meter.advance(T0 + 3600)
    assert meter.values["active_power_w"] == pytest.approx(-20_000)  # the site exports what the battery feeds
    assert meter.values["energy_export_wh"] - before_wh == pytest.approx(20_000)  # 20 kW for an hour
