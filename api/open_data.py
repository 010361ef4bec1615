"""The district's open data of a year: a Frictionless data package (docs/reports.md).

Every figure is the one the public gets from the API (the district KPI and water routes per
month, the emission inventory, the targets' progress), so the public rule has already judged it:
a withheld figure is empty and its row's ``suppressed`` column names it. The package is written
to a temporary folder, validated with the frictionless library, and only then moved into place.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from api.auth.principal import PUBLIC
from api.state import ApiState
from nzd.clock import district_clock

__all__ = ["LICENSE", "OpenDataError", "open_data_once", "validate_package", "write_open_data"]

LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
           "path": "https://creativecommons.org/licenses/by/4.0/"}


class OpenDataError(Exception):
    """The package did not validate; nothing was written."""


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    type: str
    description: str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    title: str
    columns: tuple[_Column, ...]
    rows: list[dict[str, Any]]


_SUPPRESSED = _Column("suppressed", "string", "figures of this row withheld by the public rule (fewer than "
                                              "three firms, or one above 85 %), separated by ';'")


def _energy_table(rows: list[Any]) -> _Table:
    figures = (("consumption_kwh", "consumption_mwh", "final electricity consumption"),
               ("pv_kwh", "pv_mwh", "local PV generation (metered)"),
               ("import_kwh", "grid_import_mwh", "electricity drawn from the grid"),
               ("export_kwh", "grid_export_mwh", "electricity fed into the grid"),
               ("shared_kwh", "shared_mwh", "shared energy (hourly rule)"))
    cols = [_Column("month", "yearmonth", "local calendar month"),
            _Column("partial", "boolean", "the month is not over, or not covered by the request")]
    cols += [_Column(out, "number", desc, "MWh") for _, out, desc in figures]
    cols += [_Column("incentive_eur", "number", "incentive on the shared energy", "EUR"),
             _Column("co2_t", "number", "CO2 of the electricity drawn", "t"),
             _Column("self_sufficiency", "number", "1 - import / consumption, 0..1"), _SUPPRESSED]
    out = []
    for r in rows:
        start = datetime.fromisoformat(r.period_start)
        row: dict[str, Any] = {"month": f"{start.year:04d}-{start.month:02d}", "partial": r.partial}
        withheld = []
        for src, dst, _ in figures:
            v = getattr(r, src)
            row[dst] = None if v is None else round(v / 1000.0, 6)
            if v is None:
                withheld.append(dst)
        for src, dst, scale in (("incentive_eur", "incentive_eur", 1.0), ("co2_kg", "co2_t", 0.001),
                                ("self_sufficiency", "self_sufficiency", 1.0)):
            v = getattr(r, src)
            row[dst] = None if v is None else round(v * scale, 6)
            if v is None:
                withheld.append(dst)
        row["suppressed"] = ";".join(withheld)
        out.append(row)
    return _Table("district_energy_monthly", "District electricity per month", tuple(cols), out)


def _water_table(rows: list[Any], tz: ZoneInfo) -> _Table:
    cols = (_Column("month", "yearmonth", "local calendar month"),
            _Column("intake_m3", "number", "water intake, all sources", "m3"),
            _Column("recycled_intake_m3", "number", "intake of recycled water", "m3"),
            _Column("reuse_ratio", "number", "recycled over total intake, 0..1"),
            _Column("discharge_m3", "number", "water discharged", "m3"), _SUPPRESSED)
    out = []
    for r in rows:
        start = datetime.fromtimestamp(r.period_start_ms / 1000, tz)
        values = {"intake_m3": r.intake_m3, "recycled_intake_m3": r.intake_by_source_m3.get("recycled"),
                  "reuse_ratio": r.reuse_ratio, "discharge_m3": r.discharge_m3}
        out.append({"month": f"{start.year:04d}-{start.month:02d}", **values,
                    "suppressed": ";".join(k for k, v in values.items() if v is None)})
    return _Table("district_water_monthly", "District water per month", cols, out)


def _inventory_table(inv: Any) -> _Table:
    cols = (_Column("year", "year", "calendar year"),
            _Column("sector", "string", "Covenant of Mayors sector"),
            _Column("energy_carrier", "string", "energy carrier"),
            _Column("final_energy_mwh", "number", "final energy use", "MWh"),
            _Column("emission_factor_t_co2_per_mwh", "number", "CO2 factor (location-based for grid "
                                                               "electricity)", "t/MWh"),
            _Column("co2_t", "number", "CO2 emissions", "t"), _SUPPRESSED)
    rows = [{"year": inv.year, "sector": r.sector_label, "energy_carrier": r.carrier_label,
             "final_energy_mwh": r.energy_mwh, "emission_factor_t_co2_per_mwh": r.factor_t_co2_per_mwh,
             "co2_t": r.co2_t, "suppressed": "" if r.energy_mwh is not None else "final_energy_mwh;co2_t"}
            for r in inv.rows]
    return _Table("emission_inventory", "Emission inventory by sector and energy carrier", cols, rows)


def _targets_table(progress: list[Any]) -> _Table:
    cols = (_Column("metric", "string", "the target's metric"), _Column("unit", "string", "its unit"),
            _Column("baseline_year", "year", "baseline year"),
            _Column("baseline_value", "number", "baseline"),
            _Column("target_year", "year", "target year"), _Column("target_value", "number", "target"),
            _Column("year", "year", "the year measured"),
            _Column("expected", "number", "the linear path's value in the year"),
            _Column("measured", "number", "the measured value (empty: no data or withheld)"),
            _Column("gap", "number", "measured - expected, in the unit"),
            _Column("status", "string", "ahead, on_track or behind"))
    rows = [{"metric": p.target.metric.value, "unit": p.target.unit, "baseline_year": p.target.baseline_year,
             "baseline_value": p.target.baseline_value, "target_year": p.target.target_year,
             "target_value": p.target.target_value, "year": p.year, "expected": p.expected,
             "measured": p.actual, "gap": p.gap, "status": None if p.status is None else p.status.value}
            for p in progress]
    return _Table("targets_progress", "The district's targets and the year's progress", cols, rows)


def _write_csv(folder: Path, table: _Table) -> None:
    with (folder / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([c.name for c in table.columns])
        for row in table.rows:
            w.writerow(["" if row.get(c.name) is None else
                        ("true" if row[c.name] is True else "false" if row[c.name] is False else row[c.name])
                        for c in table.columns])


def _resource(table: _Table) -> dict[str, Any]:
    fields = []
    for c in table.columns:
        f: dict[str, Any] = {"name": c.name, "type": c.type, "description": c.description}
        if c.unit:
            f["unit"] = c.unit
        fields.append(f)
    return {"name": table.name, "title": table.title, "path": f"{table.name}.csv",
            "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "licenses": [LICENSE],
            "schema": {"fields": fields, "missingValues": [""]}}


async def _tables(state: ApiState, year: int) -> list[_Table]:
    from api.problems import ProblemError
    from api.routes.inventory import year_inventory
    from api.routes.kpis import PeriodKind, district_kpi_rows
    from api.routes.targets import get_progress
    from api.routes.water import district_water
    from nzd.accounting.water import Period

    tz = ZoneInfo(state.district.timezone)
    start = datetime(year, 1, 1, tzinfo=tz)
    end = min(datetime(year + 1, 1, 1, tzinfo=tz), datetime.fromtimestamp(district_clock().now_s(), tz))
    tables = []
    try:
        energy = await district_kpi_rows(state, PUBLIC, from_=start, to=end, period=PeriodKind.MONTH)
    except ProblemError as e:
        if e.status != 403:
            raise
        energy = []  # fewer than three firms report: no figure may be published
    tables.append(_energy_table(energy))
    try:
        water = (await district_water(state, PUBLIC, from_=start, to=end, period=Period.MONTH)).rows
    except ProblemError as e:
        if e.status not in (403, 404):
            raise
        water = []
    tables.append(_water_table(water, tz))
    tables.append(_inventory_table(await year_inventory(state, PUBLIC, year)))
    tables.append(_targets_table(await get_progress(state, PUBLIC, year=year)))
    return tables


def _descriptor(state: ApiState, year: int, tables: list[_Table], *, publisher: str) -> dict[str, Any]:
    d = state.district
    title = f"{d.name or d.district}: energy, water and emissions {year}"
    modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "profile": "tabular-data-package", "name": f"nzd-{d.district}-{year}", "title": title,
        "description": "District-level energy, water, emission inventory and target progress of an "
                       "industrial district; no figure shows a single firm (at least three firms, "
                       "none above 85 %; withheld figures are empty and named in 'suppressed').",
        "version": f"{year}.{datetime.now(UTC).strftime('%m%d')}", "created": modified,
        "licenses": [LICENSE], "keywords": ["energy", "water", "CO2", "renewable energy community",
                                            "Covenant of Mayors"],
        "contributors": [{"title": publisher, "role": "publisher"}],
        "temporal": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
        "spatial": {"name": d.name or d.district, "latitude": d.latitude, "longitude": d.longitude},
        # The DCAT-AP_IT fields a portal (CKAN with the dcatapit extension) asks for.
        "dcat_ap_it": {
            "identifier": f"nzd-{d.district}-{year}", "title": title, "publisher": publisher,
            "rights_holder": publisher, "theme": ["ENVI", "ENER"], "frequency": "MONTHLY",
            "modified": modified[:10], "language": "ITA", "license": LICENSE["path"],
            "temporal_coverage": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
            "geographical_name": d.name or d.district,
        },
        "resources": [_resource(t) for t in tables],
    }


def validate_package(folder: Path) -> list[str]:
    """The package's errors (empty when frictionless finds none)."""
    from frictionless import validate

    report = validate(str(folder / "datapackage.json"))
    return [] if report.valid else [e.message for task in report.tasks for e in task.errors][:20] + \
        [e.message for e in report.errors][:20]


async def write_open_data(state: ApiState, *, year: int, out_dir: Path, publisher: str | None = None) -> Path:
    """Write the year's package into ``out_dir`` (created), validated first; returns datapackage.json."""
    tables = await _tables(state, year)
    descriptor = _descriptor(state, year, tables, publisher=publisher or state.district.name or
                             state.district.district)
    await asyncio.to_thread(_write_validated, tables, descriptor, out_dir)
    return out_dir / "datapackage.json"


def _write_validated(tables: list[_Table], descriptor: dict[str, Any], out_dir: Path) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".open-data-") as tmp:
        folder = Path(tmp)
        for t in tables:
            _write_csv(folder, t)
        (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
        errors = validate_package(folder)
        if errors:
            raise OpenDataError("the open-data package does not validate: " + "; ".join(errors))
        out_dir.mkdir(parents=True, exist_ok=True)
        for f in folder.iterdir():
            shutil.move(str(f), out_dir / f.name)


async def open_data_once(*, year: int | None, out_root: Path, publisher: str | None = None) -> Path:
    """``nzd export open-data``: the API's settings (``NZD_*``), its store and registry, one package
    into ``out_root/<year>``."""
    from api.auth.throttle import LoginThrottle
    from api.auth.users import UserDirectory
    from api.latest_cache import LatestTable
    from api.live import LiveHub
    from api.metrics import ApiMetrics
    from api.settings import ApiSettings
    from nzd.config import load_district
    from nzd.store import open_store

    settings = ApiSettings()
    district = load_district(settings.district_file)
    # Default: yesterday's year, so that the monthly run on 1 January completes December's year.
    year = year or (datetime.now(ZoneInfo(district.timezone)) - timedelta(days=1)).year
    store = open_store(settings)
    await store.open()
    try:
        # No users, no MQTT: the package is built from the store as the public sees it.
        metrics = ApiMetrics()
        latest = LatestTable(district=district, metrics=metrics, lookback_s=settings.latest_lookback_s,
                             max_devices=settings.latest_max_devices,
                             max_quantities=settings.latest_max_quantities)
        state = ApiState(settings=settings, district=district, store=store, users=UserDirectory([]),
                         hub=LiveHub(settings=settings, district=district, metrics=metrics, latest=latest),
                         latest=latest, jwt_secret="",
                         throttle=LoginThrottle(per_address=1, per_user=1, window_s=1.0))
        return await write_open_data(state, year=year, out_dir=out_root / str(year), publisher=publisher)
    finally:
        await store.close()
