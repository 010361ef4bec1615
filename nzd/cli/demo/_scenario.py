"""The demo district: eight firms of a Prato-style textile district, as config files.

Writes the district registry, one simulator config (the factory floor), one
gateway config per firm and a users file with demo-only credentials; every file
is the same kind a real installation writes by hand.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

__all__ = ["FAULTS", "PROFILES", "SITES", "DemoFault", "DemoFiles", "DemoSite", "write_demo_files"]


@dataclass(frozen=True, slots=True)
class DemoSite:
    id: str
    name: str
    activity: str
    load_profile: str
    annual_kwh: float
    pv_kwp: float = 0.0
    grid_limit_kw: float = 400.0
    battery_kwh: float = 0.0
    battery_kw: float = 0.0
    shared_battery: bool = False
    flexible_kwh: float = 0.0
    flexible_kw: float = 0.0
    water_m3_day: float = 0.0
    recycled_share: float = 0.0
    tank_m3: float = 0.0


SITES: tuple[DemoSite, ...] = (
    DemoSite("tintoria-rossi", "Tintoria Rossi", "textile dyeing with flexible batches", "g1", 900_000,
             pv_kwp=150, flexible_kwh=120, flexible_kw=60, water_m3_day=180, recycled_share=0.4),
    DemoSite("lanificio-bianchi", "Lanificio Bianchi", "weaving mill", "g3", 700_000, pv_kwp=80),
    DemoSite("rifinizione-verdi", "Rifinizione Verdi", "finishing plant", "g1", 600_000, pv_kwp=60,
             flexible_kwh=60, flexible_kw=30, water_m3_day=90, recycled_share=0.3),
    DemoSite("logistica-prato", "Logistica Prato", "logistics hub with car-park PV", "g0", 250_000,
             pv_kwp=400, grid_limit_kw=500),
    DemoSite("depuratore-baciacavallo", "Depuratore Baciacavallo",
             "water-reuse plant with recycled-water tanks and pumps", "g3", 500_000, pv_kwp=100,
             tank_m3=400),
    DemoSite("comunita-energetica", "Comunità energetica", "shared community battery", "g0", 5_000,
             battery_kwh=60, battery_kw=30, shared_battery=True),
    DemoSite("filatura-neri", "Filatura Neri", "spinning mill", "g3", 800_000, pv_kwp=120),
    DemoSite("stamperia-gialli", "Stamperia Gialli", "textile printing", "g1", 400_000, pv_kwp=50,
             water_m3_day=60),
)


@dataclass(frozen=True, slots=True)
class DemoFault:
    """A device the simulator makes misbehave for a while, in simulated time after the demo's start."""

    site: str
    device: str
    after: timedelta
    lasts: timedelta
    faults: dict[str, Any]
    """The simulator's ``faults`` of the device during the window (gateway/simulator/config.py)."""


#: What the demo injects, so that an alert appears and clears at a known time (docs/demo.md): from
#: 08:30 to 09:30 at the default start, Stamperia Gialli's water meter does not answer.
FAULTS: tuple[DemoFault, ...] = (
    DemoFault("stamperia-gialli", "water-public", after=timedelta(hours=1, minutes=30),
              lasts=timedelta(hours=1), faults={"timeout": 1.0}),
)


_PUMP_KW_PER_M3H = 0.4
_TANK_DEMAND_M3_DAY = 500.0
"""What the recycled-water network draws from the reuse plant's tank per day."""


@dataclass(slots=True)
class DemoFiles:
    directory: Path
    district: Path
    simulator: Path
    gateways: list[Path] = field(default_factory=list)
    users: Path = Path()
    credentials: dict[str, str] = field(default_factory=dict)
    """username -> demo password, printed for the person running the demo."""


def _district(sites: tuple[DemoSite, ...]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    members = [s.id for s in sites]
    for s in sites:
        site: dict[str, Any] = {
            "id": s.id, "name": s.name, "activity": s.activity,
            "grid_import_limit_kw": s.grid_limit_kw, "grid_export_limit_kw": s.grid_limit_kw,
            "meters": [{"device": "main-meter", "role": "grid"}],
        }
        if s.pv_kwp:
            site["pv"] = [{"id": "pv", "kwp": s.pv_kwp, "device": "pv-inverter"}]
            site["meters"].append({"device": "pv-inverter", "role": "pv"})
        if s.battery_kwh:
            battery: dict[str, Any] = {
                "id": "battery", "capacity_kwh": s.battery_kwh, "charge_kw": s.battery_kw,
                "discharge_kw": s.battery_kw, "device": "battery", "asset": "battery",
            }
            if s.shared_battery:
                battery["shares"] = {m: round(1 / len(members), 6) for m in members}
                battery["shares"][members[-1]] = round(1 - sum(list(battery["shares"].values())[:-1]), 6)
            site["batteries"] = [battery]
            site["meters"].append({"device": "battery", "role": "battery"})
        if s.flexible_kwh:
            site["flexible_loads"] = [{
                "id": "batch", "energy_kwh": s.flexible_kwh, "power_kw": s.flexible_kw,
                "earliest_start": "07:00", "deadline": "19:00", "min_run_minutes": 60,
            }]
        if s.tank_m3:
            site["tanks"] = [{
                "id": "recycled-tank", "volume_m3": s.tank_m3, "pump_max_m3h": 60,
                "pump_kw_per_m3h": _PUMP_KW_PER_M3H, "demand_m3_per_day": _TANK_DEMAND_M3_DAY,
                "device": "tank-level",
            }]
        if s.water_m3_day:
            meters = [{"device": "water-public", "role": "intake", "source": "public"}]
            if s.recycled_share:
                meters.append({"device": "water-recycled", "role": "intake", "source": "recycled"})
            site["water"] = {"meters": meters, "allowance_m3_per_day": {
                "normal": s.water_m3_day * 1.5, "low": s.water_m3_day * 1.3,
                "medium": s.water_m3_day * 1.15, "high": s.water_m3_day}}
        entries.append(site)
    return {
        "district": "prato-demo", "name": "Distretto tessile di Prato (demo)", "timezone": "Europe/Rome",
        "latitude": 43.88, "longitude": 11.10,
        # A time-of-use tariff with a solar-hours dip at midday (as PV-heavy markets price it) and an
        # evening peak: what makes moving a batch or a pump into the sun, and a battery charged at noon
        # and emptied at dusk, worth it.
        "tariff": {"import_eur_per_kwh": [0.18] * 7 + [0.24] * 3 + [0.26] + [0.17] * 5 + [0.24]
                   + [0.30] * 4 + [0.24, 0.20, 0.18],
                   "export_eur_per_kwh": 0.09, "incentive_eur_per_mwh": 110,
                   "valorisation_eur_per_mwh": 11, "emission_g_per_kwh": 260},
        "sites": entries,
    }


#: Register maps of the small PLCs that run a firm's flexible batch and its recycled-water pump in the
#: demo (no real product: a plain holding-register map, as many plant PLCs expose).
PROFILES: dict[str, dict[str, Any]] = {
    "demo_batch_controller": {
        "manufacturer": "nzd demo", "model": "batch controller",
        "document": {"title": "nzd demo batch controller register map", "version": "1"},
        "kind": "flexible_load", "addressing": {"datasheet": "protocol"}, "defaults": {"table": "holding"},
        "points": [
            {"quantity": "load_power_setpoint_w", "address": 100, "type": "u32",
             "write": {"min": 0, "max": 1_000_000}},
            {"quantity": "load_running", "address": 102, "type": "u16"},
        ],
        "headline": ["load_power_setpoint_w"],
    },
    "demo_pump_controller": {
        "manufacturer": "nzd demo", "model": "pump controller",
        "document": {"title": "nzd demo pump controller register map", "version": "1"},
        "kind": "pump", "addressing": {"datasheet": "protocol"}, "defaults": {"table": "holding"},
        "points": [
            {"quantity": "pump_flow_setpoint_m3h", "address": 100, "type": "u16", "scale": 0.1,
             "write": {"min": 0, "max": 1000}},
            {"quantity": "pump_running", "address": 101, "type": "u16"},
        ],
        "headline": ["pump_flow_setpoint_m3h"],
    },
}


def _devices(s: DemoSite, port: int, profiles: dict[str, Path]) -> list[dict[str, Any]]:
    """Simulated devices of one firm, all on one TCP port with a unit id each."""
    tcp = {"type": "tcp", "host": "127.0.0.1", "port": port}
    meter: dict[str, Any] = {"name": "main-meter", "profile": "eastron_sdm630", "transport": tcp,
                             "unit_id": 1, "load": {"profile": s.load_profile, "annual_kwh": s.annual_kwh}}
    devices = [meter]
    if s.pv_kwp:
        # The grid meter sees the load net of PV; the inverter (SunSpec) reports the PV itself.
        meter["pv"] = {"kwp": s.pv_kwp}
        devices.append({"name": "pv-inverter", "profile": "sunspec", "sunspec": [1, 103], "transport": tcp,
                        "unit_id": 8, "pv": {"kwp": s.pv_kwp}})
    if s.battery_kwh:
        devices.append({"name": "battery", "profile": "victron_ess", "transport": tcp, "unit_id": 2,
                        "battery": {"capacity_kwh": s.battery_kwh, "max_power_kw": s.battery_kw}})
    if s.water_m3_day:
        public = s.water_m3_day * (1 - s.recycled_share)
        devices.append({"name": "water-public", "profile": "siemens_sitrans_mag6000",
                        "transport": tcp, "unit_id": 3, "water": {"daily_m3": public}})
        if s.recycled_share:
            devices.append({"name": "water-recycled", "profile": "siemens_sitrans_mag6000",
                            "transport": tcp, "unit_id": 4,
                            "water": {"daily_m3": s.water_m3_day * s.recycled_share}})
    if s.tank_m3:
        devices.append({"name": "tank-level", "profile": "seneca_z4ai", "transport": tcp, "unit_id": 5,
                        "tank": {"volume_m3": s.tank_m3, "demand_m3_per_day": _TANK_DEMAND_M3_DAY,
                                 "pump_device": f"{s.id}-pump"[:64], "level_pct": 50.0}})
        devices.append({"name": "pump", "profile": str(profiles["demo_pump_controller"]), "transport": tcp,
                        "unit_id": 6, "noise_pct": 0, "kw_per_m3h": _PUMP_KW_PER_M3H})
    if s.flexible_kwh:
        devices.append({"name": "batch-controller", "profile": str(profiles["demo_batch_controller"]),
                        "transport": tcp, "unit_id": 7, "noise_pct": 0})
    # The grid meter measures the whole site: what the battery, the batch and the pump draw too.
    meter["behind"] = [f"{s.id}-{d['name']}"[:64] for d in devices
                       if d["name"] in ("battery", "pump", "batch-controller")]
    return devices


def _assets(s: DemoSite) -> list[dict[str, Any]]:
    """The gateway's controllable assets: the names the district registry dispatches to."""
    assets: list[dict[str, Any]] = []
    if s.battery_kwh:
        limit_w = s.battery_kw * 1000
        assets.append({"name": "battery", "device": "battery", "point": "battery_power_setpoint_w",
                       "min_value": -limit_w, "max_value": limit_w, "max_ramp_per_s": limit_w,
                       "fallback": {"value": 0, "description": "battery idle"}})
    if s.flexible_kwh:
        assets.append({"name": "batch", "device": "batch-controller", "point": "load_power_setpoint_w",
                       "min_value": 0, "max_value": s.flexible_kw * 1000,
                       "fallback": {"value": 0, "description": "batch waits for the operator"}})
    if s.tank_m3:
        assets.append({"name": "recycled-tank", "device": "pump", "point": "pump_flow_setpoint_m3h",
                       "min_value": 0, "max_value": 60,
                       "fallback": {"value": 20, "description": "pump on its level switch"}})
    return assets


def _faults(site: str, device: str, start: str | None) -> dict[str, Any]:
    """The simulator's ``faults`` entry of a device the demo makes misbehave ({} for the others)."""
    for f in FAULTS:
        if (f.site, f.device) == (site, device) and start is not None:
            begin = datetime.fromisoformat(start) + f.after
            return {"faults": {**f.faults, "start": begin.isoformat(), "end": (begin + f.lasts).isoformat()}}
    return {}


def write_demo_files(directory: Path, *, mqtt_host: str, mqtt_port: int, device_ports: list[int],
                     speed: float, start: str | None = None, poll_interval_s: float = 2.0) -> DemoFiles:
    """Write every config of the demo into ``directory``; one simulator TCP port per firm."""
    directory.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(directory=directory, district=directory / "district.yaml",
                      simulator=directory / "simulator.yaml", users=directory / "users.yaml")
    files.district.write_text(yaml.safe_dump(_district(SITES), sort_keys=False))
    profiles = {name: directory / f"{name}.yaml" for name in PROFILES}
    for name, path in profiles.items():
        path.write_text(yaml.safe_dump(PROFILES[name], sort_keys=False))
    sim_devices: list[dict[str, Any]] = []
    for s, port in zip(SITES, device_ports, strict=True):
        devices = _devices(s, port, profiles)
        # One simulator serves every firm, so its device names carry the firm.
        sim_devices += [{**d, "name": f"{s.id}-{d['name']}"[:64], **_faults(s.id, d["name"], start)}
                        for d in devices]
        gateway: dict[str, Any] = {
            "gateway": f"gw-{s.id}"[:64], "district": "prato-demo", "site": s.id,
            "broker": {"host": mqtt_host, "port": mqtt_port},
            "buffer": {"path": str(directory / f"buffer-{s.id}.sqlite")},
            # Each device reads at its own point of the interval, as a site would stagger them.
            "devices": [{"name": d["name"], "profile": d["profile"], "transport": d["transport"],
                         "unit_id": d["unit_id"], "poll_interval_s": poll_interval_s,
                         "poll_offset_s": round(k * poll_interval_s / len(devices), 3)}
                        for k, d in enumerate(devices)],
        }
        if assets := _assets(s):
            gateway["assets"] = assets
        path = directory / f"gateway-{s.id}.yaml"
        path.write_text(yaml.safe_dump(gateway, sort_keys=False))
        files.gateways.append(path)
    clock: dict[str, Any] = {"speed": speed, "tick_s": 1.0}
    if start is not None:
        clock["start"] = start
    files.simulator.write_text(yaml.safe_dump({"simulator": clock, "devices": sim_devices}, sort_keys=False))
    files.credentials = {"operator": secrets.token_urlsafe(9), "tintoria": secrets.token_urlsafe(9)}
    return files
