"""The quantity vocabulary: one canonical name per physical quantity, unit in the name.

Everything downstream of a gateway speaks these names, never registers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["QUANTITIES", "Quantity", "QuantityKind", "is_counter", "quantity"]


class QuantityKind(StrEnum):
    INSTANTANEOUS = "instantaneous"
    """A value at the read time (power, level, temperature)."""
    COUNTER = "counter"
    """A cumulative, non-decreasing total (energy, volume); may reset or roll over."""
    STATE = "state"
    """A discrete state or code (mode, alarm word)."""


@dataclass(frozen=True, slots=True)
class Quantity:
    name: str
    unit: str
    kind: QuantityKind
    description: str
    sign: str = ""
    """Sign convention, where the quantity is signed."""


_Q = QuantityKind

_TABLE: tuple[Quantity, ...] = (
    # electricity
    Quantity("active_power_w", "W", _Q.INSTANTANEOUS, "Total active power",
             "positive = drawn from the grid or consumed; negative = fed in"),
    Quantity("active_power_l1_w", "W", _Q.INSTANTANEOUS, "Active power, phase L1", "as active_power_w"),
    Quantity("active_power_l2_w", "W", _Q.INSTANTANEOUS, "Active power, phase L2", "as active_power_w"),
    Quantity("active_power_l3_w", "W", _Q.INSTANTANEOUS, "Active power, phase L3", "as active_power_w"),
    Quantity("reactive_power_var", "var", _Q.INSTANTANEOUS, "Total reactive power",
             "positive = inductive"),
    Quantity("apparent_power_va", "VA", _Q.INSTANTANEOUS, "Total apparent power"),
    Quantity("power_factor", "1", _Q.INSTANTANEOUS, "Total power factor",
             "negative = capacitive"),
    Quantity("frequency_hz", "Hz", _Q.INSTANTANEOUS, "Grid frequency"),
    Quantity("voltage_v", "V", _Q.INSTANTANEOUS, "Voltage, line to neutral (single phase or mean)"),
    Quantity("voltage_l1_v", "V", _Q.INSTANTANEOUS, "Voltage L1-N"),
    Quantity("voltage_l2_v", "V", _Q.INSTANTANEOUS, "Voltage L2-N"),
    Quantity("voltage_l3_v", "V", _Q.INSTANTANEOUS, "Voltage L3-N"),
    Quantity("voltage_l1_l2_v", "V", _Q.INSTANTANEOUS, "Voltage L1-L2"),
    Quantity("voltage_l2_l3_v", "V", _Q.INSTANTANEOUS, "Voltage L2-L3"),
    Quantity("voltage_l3_l1_v", "V", _Q.INSTANTANEOUS, "Voltage L3-L1"),
    Quantity("current_a", "A", _Q.INSTANTANEOUS, "Current (single phase or sum)"),
    Quantity("current_l1_a", "A", _Q.INSTANTANEOUS, "Current L1"),
    Quantity("current_l2_a", "A", _Q.INSTANTANEOUS, "Current L2"),
    Quantity("current_l3_a", "A", _Q.INSTANTANEOUS, "Current L3"),
    Quantity("current_n_a", "A", _Q.INSTANTANEOUS, "Neutral current"),
    Quantity("energy_import_wh", "Wh", _Q.COUNTER, "Active energy drawn from the grid / consumed"),
    Quantity("energy_export_wh", "Wh", _Q.COUNTER, "Active energy fed into the grid / produced"),
    Quantity("energy_total_wh", "Wh", _Q.COUNTER, "Total active energy (import + export)"),
    Quantity("reactive_energy_import_varh", "varh", _Q.COUNTER, "Reactive energy, import"),
    Quantity("reactive_energy_export_varh", "varh", _Q.COUNTER, "Reactive energy, export"),
    # PV
    Quantity("pv_power_w", "W", _Q.INSTANTANEOUS, "PV AC power produced", "positive = produced"),
    Quantity("pv_dc_power_w", "W", _Q.INSTANTANEOUS, "PV DC power", "positive = produced"),
    Quantity("pv_dc_voltage_v", "V", _Q.INSTANTANEOUS, "PV DC voltage"),
    Quantity("pv_dc_current_a", "A", _Q.INSTANTANEOUS, "PV DC current"),
    Quantity("pv_energy_wh", "Wh", _Q.COUNTER, "PV lifetime energy produced"),
    Quantity("inverter_temperature_c", "°C", _Q.INSTANTANEOUS, "Inverter temperature"),
    Quantity("inverter_state", "", _Q.STATE, "Inverter operating state code"),
    # battery
    Quantity("battery_power_w", "W", _Q.INSTANTANEOUS, "Battery power",
             "positive = discharging, negative = charging"),
    Quantity("battery_soc_pct", "%", _Q.INSTANTANEOUS, "Battery state of charge"),
    Quantity("battery_soh_pct", "%", _Q.INSTANTANEOUS, "Battery state of health"),
    Quantity("battery_voltage_v", "V", _Q.INSTANTANEOUS, "Battery DC voltage"),
    Quantity("battery_current_a", "A", _Q.INSTANTANEOUS, "Battery DC current",
             "positive = discharging"),
    Quantity("battery_temperature_c", "°C", _Q.INSTANTANEOUS, "Battery temperature"),
    Quantity("battery_power_setpoint_w", "W", _Q.INSTANTANEOUS, "Battery power setpoint",
             "positive = discharge"),
    Quantity("battery_charge_energy_wh", "Wh", _Q.COUNTER, "Energy charged into the battery"),
    Quantity("battery_discharge_energy_wh", "Wh", _Q.COUNTER, "Energy discharged"),
    Quantity("battery_mode", "", _Q.STATE, "Battery control mode code"),
    # loads
    Quantity("load_power_setpoint_w", "W", _Q.INSTANTANEOUS, "Flexible load power setpoint"),
    Quantity("load_running", "", _Q.STATE, "Flexible load running (1) or not (0)"),
    # water
    Quantity("water_flow_m3h", "m³/h", _Q.INSTANTANEOUS, "Volumetric water flow",
             "positive = forward"),
    Quantity("water_volume_m3", "m³", _Q.COUNTER, "Water volume totaliser (forward)"),
    Quantity("water_volume_reverse_m3", "m³", _Q.COUNTER, "Water volume totaliser (reverse)"),
    Quantity("water_pressure_bar", "bar", _Q.INSTANTANEOUS, "Water pressure (gauge)"),
    Quantity("water_temperature_c", "°C", _Q.INSTANTANEOUS, "Water temperature"),
    Quantity("tank_level_pct", "%", _Q.INSTANTANEOUS, "Tank level, percent of usable volume"),
    Quantity("tank_level_m", "m", _Q.INSTANTANEOUS, "Tank level, height"),
    Quantity("conductivity_us_cm", "µS/cm", _Q.INSTANTANEOUS, "Electrical conductivity"),
    Quantity("turbidity_ntu", "NTU", _Q.INSTANTANEOUS, "Turbidity"),
    Quantity("ph", "pH", _Q.INSTANTANEOUS, "pH"),
    Quantity("pump_power_w", "W", _Q.INSTANTANEOUS, "Pump electrical power", "positive = consumed"),
    Quantity("pump_running", "", _Q.STATE, "Pump running (1) or not (0)"),
    Quantity("pump_flow_setpoint_m3h", "m³/h", _Q.INSTANTANEOUS, "Pump flow setpoint"),
    # production
    Quantity("production_output_units", "unit", _Q.COUNTER,
             "Production output counter, in the site's production_unit (kg, m of fabric...), "
             "for water intensity"),
    # analog channels of I/O modules before they are assigned a meaning
    Quantity("analog_current_ma", "mA", _Q.INSTANTANEOUS, "Raw analog input current"),
    Quantity("device_temperature_c", "°C", _Q.INSTANTANEOUS, "Device internal temperature"),
    Quantity("status_word", "", _Q.STATE, "Device status or alarm bits"),
)

QUANTITIES: dict[str, Quantity] = {q.name: q for q in _TABLE}


def quantity(name: str) -> Quantity:
    """The quantity called ``name``; ``KeyError`` if the vocabulary lacks it."""
    return QUANTITIES[name]


def is_counter(name: str) -> bool:
    q = QUANTITIES.get(name)
    return q is not None and q.kind is QuantityKind.COUNTER
