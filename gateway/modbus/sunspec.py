"""SunSpec discovery: find "SunS", walk the model chain, map known models onto quantities.

Point offsets, types and scale factor names come from pysunspec2's model
definitions (JSON, shipped in the package); the reading is ours, over the
same asyncio links as every other device. :func:`build_profile` turns the
models found into an ordinary :class:`~gateway.profiles.Profile`, so a SunSpec
device is then planned, polled and decoded like any other.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.modbus.errors import ModbusError
from gateway.modbus.transport import ModbusLink
from gateway.profiles import Profile
from nzd.messages import DeviceKind

__all__ = [
    "SUNSPEC_BASES",
    "SUNSPEC_MARKER",
    "SunSpecDevice",
    "SunSpecModel",
    "build_profile",
    "discover",
    "model_layout",
    "sunspec_image",
]

SUNSPEC_BASES = (40000, 0, 50000)
SUNSPEC_MARKER = (0x5375, 0x6E53)  # "SunS"
END_ID = 0xFFFF
MAX_MODELS = 64

_INVERTER = {
    "A": "current_a", "AphA": "current_l1_a", "AphB": "current_l2_a", "AphC": "current_l3_a",
    "PPVphAB": "voltage_l1_l2_v", "PPVphBC": "voltage_l2_l3_v", "PPVphCA": "voltage_l3_l1_v",
    "PhVphA": "voltage_l1_v", "PhVphB": "voltage_l2_v", "PhVphC": "voltage_l3_v",
    "W": "pv_power_w", "Hz": "frequency_hz", "VA": "apparent_power_va", "VAr": "reactive_power_var",
    "PF": "power_factor", "WH": "pv_energy_wh", "DCA": "pv_dc_current_a", "DCV": "pv_dc_voltage_v",
    "DCW": "pv_dc_power_w", "TmpCab": "inverter_temperature_c", "St": "inverter_state",
}
_SINGLE_PHASE = {k: v for k, v in _INVERTER.items() if not k.endswith(("B", "C", "AB", "BC", "CA"))} | {
    "PhVphA": "voltage_v"}
_SPLIT_PHASE = {k: v for k, v in _INVERTER.items() if not k.endswith(("C", "BC", "CA"))}
_METER = {
    "A": "current_a", "AphA": "current_l1_a", "AphB": "current_l2_a", "AphC": "current_l3_a",
    "PhV": "voltage_v", "PhVphA": "voltage_l1_v", "PhVphB": "voltage_l2_v", "PhVphC": "voltage_l3_v",
    "PhVphAB": "voltage_l1_l2_v", "PhVphBC": "voltage_l2_l3_v", "PhVphCA": "voltage_l3_l1_v",
    "Hz": "frequency_hz", "W": "active_power_w", "WphA": "active_power_l1_w", "WphB": "active_power_l2_w",
    "WphC": "active_power_l3_w", "VA": "apparent_power_va", "VAR": "reactive_power_var", "PF": "power_factor",
    "TotWhExp": "energy_export_wh", "TotWhImp": "energy_import_wh",
}
#: SunSpec point name -> quantity, per model id.
MODEL_MAP: dict[int, dict[str, str]] = {
    101: _SINGLE_PHASE, 102: _SPLIT_PHASE, 103: _INVERTER,
    111: _SINGLE_PHASE, 112: _SPLIT_PHASE, 113: _INVERTER,
    124: {"ChaState": "battery_soc_pct", "InBatV": "battery_voltage_v", "ChaSt": "battery_mode"},
    160: {"module.DCA": "pv_dc_current_a", "module.DCV": "pv_dc_voltage_v", "module.DCW": "pv_dc_power_w"},
    201: _METER, 202: _METER, 203: _METER, 204: _METER,
    802: {"SoC": "battery_soc_pct", "SoH": "battery_soh_pct", "V": "battery_voltage_v",
          "A": "battery_current_a", "W": "battery_power_w"},
}

_TYPES = {
    "int16": ("i16", [0x8000]), "uint16": ("u16", [0xFFFF]), "acc16": ("u16", [0]),
    "enum16": ("u16", [0xFFFF]), "bitfield16": ("u16", [0xFFFF]), "count": ("u16", []),
    "int32": ("i32", [0x80000000]), "uint32": ("u32", [0xFFFFFFFF]), "acc32": ("u32", [0]),
    "enum32": ("u32", [0xFFFFFFFF]), "bitfield32": ("u32", [0xFFFFFFFF]), "float32": ("f32", []),
    "int64": ("i64", [0x8000000000000000]), "acc64": ("u64", [0]), "sunssf": ("i16", [0x8000]),
}
_UNITS = {"Pct": "%", "C": "°C", "Wh": "Wh", "W": "W", "A": "A", "V": "V", "VA": "VA", "var": "var",
          "Hz": "Hz"}


@dataclass(frozen=True, slots=True)
class SunSpecPoint:
    name: str
    offset: int
    """Registers from the model's ID register."""
    type: str
    size: int
    sf: str | None
    units: str | None


@functools.cache
def _model_json(model_id: int) -> dict[str, Any] | None:
    import sunspec2

    path = Path(sunspec2.__file__).parent / "models" / "json" / f"model_{model_id}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@functools.cache
def model_layout(model_id: int) -> dict[str, SunSpecPoint]:
    """Points of a model by name (``module.X`` for the first repeating block) with offsets."""
    data = _model_json(model_id)
    if data is None:
        return {}
    out: dict[str, SunSpecPoint] = {}
    offset = 0
    group = data["group"]
    for p in group["points"]:
        out[p["name"]] = SunSpecPoint(p["name"], offset, p["type"], int(p.get("size", 1)), p.get("sf"),
                                      p.get("units"))
        offset += int(p.get("size", 1))
    for sub in group.get("groups", []):
        for p in sub["points"]:
            name = f"{sub['name']}.{p['name']}"
            out[name] = SunSpecPoint(name, offset, p["type"], int(p.get("size", 1)), p.get("sf"),
                                     p.get("units"))
            offset += int(p.get("size", 1))
        break  # only the first repeating group, first instance
    return out


def model_length(model_id: int) -> int:
    """``L`` of a model with one instance of its repeating group: registers after ID and L."""
    layout = model_layout(model_id)
    return max((p.offset + p.size for p in layout.values()), default=2) - 2


@dataclass(frozen=True, slots=True)
class SunSpecModel:
    id: int
    address: int
    """Address of the model's ID register."""
    length: int


@dataclass(frozen=True, slots=True)
class SunSpecDevice:
    base: int
    models: tuple[SunSpecModel, ...]
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    unknown: tuple[int, ...] = field(default=())
    """Model ids found that nzd does not map."""


def _text(words: list[int]) -> str:
    return b"".join(w.to_bytes(2, "big") for w in words).split(b"\x00", 1)[0].decode("latin-1").strip()


async def discover(link: ModbusLink, *, unit_id: int = 1, timeout_s: float = 1.0) -> SunSpecDevice:
    """Find the SunSpec marker and walk the model chain; raises ``LookupError`` if there is none."""
    for base in SUNSPEC_BASES:
        try:
            marker = await link.read(table="holding", address=base, count=2, unit_id=unit_id,
                                     timeout_s=timeout_s)
        except ModbusError:
            continue
        if tuple(marker) != SUNSPEC_MARKER:
            continue
        models: list[SunSpecModel] = []
        address = base + 2
        for _ in range(MAX_MODELS):
            if address + 1 > 65535:
                break
            model_id, length = await link.read(table="holding", address=address, count=2, unit_id=unit_id,
                                               timeout_s=timeout_s)
            if model_id == END_ID:
                break
            models.append(SunSpecModel(model_id, address, length))
            address += 2 + length
        manufacturer = model_name = serial = ""
        common = next((m for m in models if m.id == 1), None)
        if common is not None and common.length >= 64:
            words = await link.read(table="holding", address=common.address + 2, count=64, unit_id=unit_id,
                                    timeout_s=timeout_s)
            manufacturer, model_name, serial = _text(words[0:16]), _text(words[16:32]), _text(words[48:64])
        unknown = tuple(m.id for m in models if m.id != 1 and m.id not in MODEL_MAP)
        return SunSpecDevice(base, tuple(models), manufacturer, model_name, serial, unknown)
    raise LookupError(f"no SunSpec marker at {', '.join(map(str, SUNSPEC_BASES))} (unit {unit_id})")


def _points(device: SunSpecDevice) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in device.models:
        mapping = MODEL_MAP.get(m.id, {})
        layout = model_layout(m.id)
        for name, quantity in mapping.items():
            p = layout.get(name)
            if p is None or quantity in seen or p.offset + p.size > m.length + 2:
                continue
            dtype, na = _TYPES.get(p.type, (None, []))
            if dtype is None:
                continue
            spec: dict[str, Any] = {"quantity": quantity, "address": m.address + p.offset, "type": dtype,
                                    "note": f"model {m.id} {name}"}
            if na:
                spec["not_available"] = na
            if p.sf:
                sf = layout.get(p.sf)
                if sf is None:
                    continue
                spec["scale_factor"] = m.address + sf.offset
            if p.units in _UNITS or (p.units or "").startswith("%"):
                spec["unit"] = _UNITS.get(p.units or "", "%")
            seen.add(quantity)
            specs.append(spec)
    return specs


_HEADLINE = {DeviceKind.BATTERY: ("battery_power_w", "battery_soc_pct"),
             DeviceKind.PV_INVERTER: ("pv_power_w",), DeviceKind.ELECTRICITY_METER: ("active_power_w",)}


def build_profile(device: SunSpecDevice) -> Profile:
    """A profile for the models found (kind from the models: battery, PV inverter or meter)."""
    import sunspec2

    ids = {m.id for m in device.models}
    if ids & {124, 802}:
        kind = DeviceKind.BATTERY
    elif ids & {101, 102, 103, 111, 112, 113, 160}:
        kind = DeviceKind.PV_INVERTER
    else:
        kind = DeviceKind.ELECTRICITY_METER
    points = _points(device)
    if not points:
        raise LookupError(f"none of the SunSpec models {sorted(ids)} carries a quantity nzd knows")
    return Profile.model_validate({
        "manufacturer": device.manufacturer or "SunSpec",
        "model": device.model or "SunSpec device",
        "document": {"title": "SunSpec Information Models (pysunspec2 model definitions)",
                     "version": getattr(sunspec2, "__version__", "1.3")},
        "kind": kind.value,
        "addressing": {"datasheet": "protocol", "note": f"discovered at base {device.base}"},
        "limits": {"max_registers": 125, "max_gap": 125},
        "defaults": {"table": "holding"},
        "points": points,
        # what a person reads the device by, among the quantities its models carry
        "headline": [q for q in _HEADLINE[kind] if any(p["quantity"] == q for p in points)],
    })


def sunspec_image(model_ids: list[int], *, base: int = 40000, manufacturer: str = "nzd",
                  model: str = "simulated") -> tuple[SunSpecDevice, dict[int, int]]:
    """The layout of a SunSpec device with ``model_ids`` at ``base`` and its fixed words
    (marker, model headers, common model strings, end marker): what a simulator serves."""
    words: dict[int, int] = {base: SUNSPEC_MARKER[0], base + 1: SUNSPEC_MARKER[1]}
    models: list[SunSpecModel] = []
    address = base + 2
    for mid in model_ids:
        if _model_json(mid) is None:
            raise ValueError(f"pysunspec2 has no SunSpec model {mid}")
        length = model_length(mid)
        models.append(SunSpecModel(mid, address, length))
        words[address], words[address + 1] = mid, length
        for i in range(length):
            words.setdefault(address + 2 + i, 0)
        if mid == 160:
            words[address + model_layout(160)["N"].offset] = 1
        address += 2 + length
    words[address], words[address + 1] = END_ID, 0
    common = next((m for m in models if m.id == 1), None)
    if common is not None:
        for text, at in ((manufacturer, 2), (model, 18), ("NZD-0001", 50)):
            data = text.encode("latin-1")[:32].ljust(32, b"\x00")
            for i in range(16):
                words[common.address + at + i] = int.from_bytes(data[2 * i : 2 * i + 2], "big")
    return SunSpecDevice(base, tuple(models), manufacturer, model), words
