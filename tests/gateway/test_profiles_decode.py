"""Each shipped profile decodes raw register words taken from its documentation.

The words are what the device sends, in address order, following the encoding the
register documentation describes (IEEE 754 floats, LSW-first integers with their
weight, 1-based register numbers...). Where a document prints example words they
are used as printed (Siemens' float table: 100.0 = 42C8 0000h, 55.32 = 425D 47AEh).
"""

from __future__ import annotations

import pytest

from gateway.decode import decode, encode
from gateway.planner import decode_responses, plan
from gateway.profiles import Point, Table, available_profiles, load_profile
from nzd.messages import Quality


def points(name: str, options: dict | None = None) -> dict[str, Point]:
    return {p.quantity: p for p in load_profile(name).resolve(options or {})}


def value(p: Point, words: list[int], sf: int | None = None) -> float | str | None:
    r = decode(p, words, sf)
    assert r.quality is None, r
    return r.value


# -- Eastron: input registers, IEEE 754 float, high word first --------------------------


def test_eastron_sdm630() -> None:
    p = points("eastron_sdm630")
    assert p["voltage_l1_v"].table is Table.INPUT and p["voltage_l1_v"].address == 0  # 30001
    assert value(p["voltage_l1_v"], [0x4366, 0x0000]) == 230.0  # 230.0 V
    assert p["active_power_w"].address == 52  # 30053 total system power
    assert value(p["active_power_w"], [0xC4BB, 0x8000]) == -1500.0  # exporting 1.5 kW
    assert p["energy_import_wh"].address == 72  # 30073
    assert value(p["energy_import_wh"], [0x449A, 0x5000]) == 1234500.0  # 1234.5 kWh
    assert value(p["frequency_hz"], [0x4248, 0x0000]) == 50.0


def test_eastron_sdm120() -> None:
    p = points("eastron_sdm120")
    assert value(p["voltage_v"], [0x4366, 0x0000]) == 230.0
    assert value(p["current_a"], [0x4120, 0x0000]) == 10.0
    assert p["energy_total_wh"].address == 0x0156  # 30343
    assert value(p["energy_total_wh"], [0x4479, 0xC000]) == 999000.0  # 999.0 kWh


def test_eastron_sdm72() -> None:
    p = points("eastron_sdm72")
    assert value(p["voltage_l3_v"], [0x4366, 0x0000]) == 230.0
    assert value(p["active_power_w"], [0x45FA, 0x0000]) == 8000.0
    assert value(p["energy_export_wh"], [0x4120, 0x0000]) == 10000.0  # 10 kWh


# -- Carlo Gavazzi: INT32 least significant word first, weights -------------------------


def test_carlo_gavazzi_em24() -> None:
    p = points("carlo_gavazzi_em24")
    # V L1-N 230.0 V = 2300 (Volt*10) = 0x000008FC, sent LSW first
    assert value(p["voltage_l1_v"], [0x08FC, 0x0000]) == 230.0
    # A L1 12.345 A = 12345 (Ampere*1000)
    assert value(p["current_l1_a"], [0x3039, 0x0000]) == 12.345
    # W sys -1500.5 W = -15005 (Watt*10) = 0xFFFFC563
    assert value(p["active_power_w"], [0xC563, 0xFFFF]) == -1500.5
    # kWh(+) TOT 123456.7 kWh = 1234567 (kWh*10) = 0x0012D687
    assert value(p["energy_import_wh"], [0xD687, 0x0012]) == 123456700.0
    assert value(p["frequency_hz"], [500]) == 50.0
    assert value(p["power_factor"], [0xFC18]) == -1.0  # PF*1000 = -1000


def test_carlo_gavazzi_em340() -> None:
    p = points("carlo_gavazzi_em340")
    assert p["energy_import_wh"].address == 0x34 and p["energy_export_wh"].address == 0x4E
    assert value(p["voltage_l2_v"], [0x08FC, 0x0000]) == 230.0
    assert value(p["active_power_w"], [0xC563, 0xFFFF]) == -1500.5
    assert value(p["energy_export_wh"], [0x0001, 0x0001]) == 6553.7 * 1000  # 65537 = 6553.7 kWh
    assert value(p["frequency_hz"], [499]) == 49.9


# -- Schneider iEM3255: 1-based registers, Float32 kW, Int64 Wh ---------------------------


def test_schneider_iem3255() -> None:
    p = points("schneider_iem3255")
    total = p["active_power_w"]
    assert total.address == 3059  # register 3060 in the manual
    assert p["active_power_l1_w"].address == 3053  # register 3054
    assert value(total, [0x4148, 0x0000]) == 12500.0  # 12.5 kW
    energy = p["energy_import_wh"]
    assert energy.address == 3203  # register 3204
    assert value(energy, [0x0000, 0x0000, 0x075B, 0xCD15]) == 123456789.0  # Wh
    assert decode(energy, [0x8000, 0, 0, 0]).quality is Quality.NAN
    assert decode(p["voltage_l1_v"], [0xFFC0, 0x0000]).quality is Quality.NAN  # float NaN


# -- ABB B23: u32/i32/u64 with fixed resolution ------------------------------------------


def test_abb_b23() -> None:
    p = points("abb_b23")
    assert value(p["voltage_l1_v"], [0x0000, 0x08FD]) == 230.1  # 2301 * 0.1 V
    assert value(p["current_l1_a"], [0x0000, 0x04D2]) == 12.34  # 1234 * 0.01 A
    assert value(p["active_power_w"], [0xFFFE, 0x1DC0]) == -1234.56  # -123456 * 0.01 W
    assert value(p["energy_import_wh"], [0, 0, 0x0001, 0xE240]) == 1234560.0  # 123456 * 0.01 kWh
    assert decode(p["energy_import_wh"], [0xFFFF] * 4).quality is Quality.NAN
    assert decode(p["active_power_w"], [0x7FFF, 0xFFFF]).quality is Quality.NAN
    assert value(p["frequency_hz"], [5000]) == 50.0


# -- Lovato DMG: table address minus one, fixed resolution --------------------------------


def test_lovato_dmg() -> None:
    p = points("lovato_dmg")
    assert p["voltage_l1_v"].address == 0x0001  # table 0002h
    assert value(p["voltage_l1_v"], [0x0000, 0x59E4]) == 230.12  # 23012 V/100
    assert value(p["current_l1_a"], [0x0000, 0xCD14]) == 5.25  # 52500 A/10000
    assert value(p["frequency_hz"], [0x0000, 0xC350]) == 50.0  # 50000 Hz/1000
    assert value(p["active_power_w"], [0xFFFF, 0xFF9C]) == -1.0  # -100 W/100
    assert value(p["energy_import_wh"], [0, 0, 0x0001, 0xE240]) == 1234560.0  # 1234.56 kWh


# -- Janitza UMG 96RM-E: float block at 19000 --------------------------------------------


def test_janitza_umg96rme() -> None:
    p = points("janitza_umg96rme")
    assert p["voltage_l1_v"].address == 19000
    assert value(p["voltage_l1_v"], [0x4366, 0x0000]) == 230.0
    assert value(p["active_power_w"], [0x44BB, 0x8000]) == 1500.0
    assert value(p["frequency_hz"], [0x4248, 0x0000]) == 50.0
    assert value(p["energy_import_wh"], [0x4B3C, 0x614E]) == 12345678.0  # Wh


# -- Siemens SITRANS F M MAG 6000: the float table of the Modbus manual -------------------


def test_siemens_mag6000_documented_floats() -> None:
    p = points("siemens_sitrans_mag6000")
    flow = p["water_flow_m3h"]
    assert flow.address == 3002  # 4:03003
    # the manual's table: 1.0 = 3F800000h; volumeflow is in m3/s
    assert value(flow, [0x3F80, 0x0000]) == pytest.approx(3600.0)
    assert value(flow, [0x425D, 0x47AE]) == pytest.approx(55.32 * 3600, rel=1e-6)  # 55.32 = 425D47AEh
    # totalizer 1 is a double: 100.0 = 4059 0000 0000 0000h
    assert value(p["water_volume_m3"], [0x4059, 0, 0, 0]) == 100.0
    assert "water_volume_reverse_m3" not in p


def test_siemens_mag6000_selectable_byte_order() -> None:
    for order, wire in [("ABCD", [0x42C8, 0x0000]), ("CDAB", [0x0000, 0x42C8]),
                        ("BADC", [0xC842, 0x0000]), ("DCBA", [0x0000, 0xC842])]:
        p = points("siemens_sitrans_mag6000", {"byte_order": order, "totalizer_2": "water_volume_reverse_m3"})
        assert value(p["water_flow_m3h"], wire) == pytest.approx(360000.0)  # 100.0 m3/s
        assert p["water_volume_reverse_m3"].address == 3018


# -- Seneca Z-4AI: per-channel 4-20 mA scaling ---------------------------------------------


def test_seneca_z4ai_default_channels() -> None:
    p = points("seneca_z4ai")
    assert set(p) == {"tank_level_pct", "water_pressure_bar", "conductivity_us_cm"}
    assert p["tank_level_pct"].address == 16  # 40017
    assert value(p["tank_level_pct"], [12000]) == pytest.approx(50.0)  # 12 mA, 0..100 %
    assert value(p["water_pressure_bar"], [8000]) == pytest.approx(2.5)  # 8 mA, 0..10 bar
    assert value(p["conductivity_us_cm"], [20000]) == pytest.approx(2000.0)  # 20 mA
    broken = decode(p["tank_level_pct"], [0])  # wire break: 0 mA
    assert broken.quality is Quality.OUT_OF_RANGE


def test_seneca_z4ai_channels_from_gateway_options() -> None:
    p = points("seneca_z4ai", {"ch1_quantity": "tank_level_m", "ch1_at_20ma": 4.0, "ch2_quantity": "none",
                               "ch4_quantity": "analog_current_ma"})
    assert set(p) == {"tank_level_m", "conductivity_us_cm", "analog_current_ma"}
    assert value(p["tank_level_m"], [16000]) == pytest.approx(3.0)
    assert value(p["analog_current_ma"], [12000]) == pytest.approx(12.0)


# -- Victron ESS: signs turned to nzd's, writable setpoint --------------------------------


def test_victron_ess() -> None:
    prof = load_profile("victron_ess")
    p = {q.quantity: q for q in prof.resolve()}
    setpoint = p["battery_power_setpoint_w"]
    assert setpoint.writable and setpoint.address == 37 and setpoint.table is Table.HOLDING
    # nzd +2000 W (discharge) is -2000 W on the wire ("negative = discharge")
    assert encode(setpoint, 2000) == [0xF830]
    assert value(setpoint, [0xF830]) == 2000.0
    # system 842 battery power -1500 W on the wire = discharging 1500 W
    assert value(p["battery_power_w"], [0xFA24]) == 1500.0
    assert p["battery_power_w"].unit_id == 100 and p["battery_soc_pct"].unit_id == 100
    assert value(p["battery_soc_pct"], [75]) == 75.0
    assert value(p["battery_voltage_v"], [5230]) == 52.3
    assert value(p["battery_current_a"], [0xFF38]) == 20.0  # -200 (A*10) on the wire: discharging
    # the whole device in one cycle: one request per unit id
    requests = plan(prof.resolve(), prof.limits, unit_id=227)
    assert [(r.unit_id, r.address, r.count) for r in requests] == [(100, 842, 2), (227, 12, 26)]
    words = [0] * 26
    words[37 - 12] = 0xF830
    words[26 - 12] = 5230
    out = decode_responses(requests, [[0xFA24, 75], words])
    assert out["battery_power_setpoint_w"].value == 2000.0
    assert out["battery_soc_pct"].value == 75.0


def test_every_shipped_profile_has_a_decode_test() -> None:
    tested = {"eastron_sdm630", "eastron_sdm120", "eastron_sdm72", "carlo_gavazzi_em24",
              "carlo_gavazzi_em340", "schneider_iem3255", "abb_b23", "lovato_dmg", "janitza_umg96rme",
              "siemens_sitrans_mag6000", "seneca_z4ai", "victron_ess"}
    assert set(available_profiles()) <= tested
