"""Water KPIs per site and for the district: pure functions over totaliser readings.

Volumes per interval come from cumulative totalisers (``water_volume_m3``) through
:func:`nzd.accounting.counters.volume_per_interval`, so resets, rollovers and gaps
are handled there. Intervals are local calendar hours, days or months of the
district (:func:`period_edges`). From the volumes:

- intake by source (public network, wells, recycled water) and in total;
- reuse ratio = recycled intake / total intake (NaN where nothing was taken in);
- discharge and process volumes;
- water intensity = total intake / production output (m3 per unit; NaN where
  nothing was produced);
- supply into the recycled network (the reuse plant's output);
- trends: change against the previous interval and a least-squares slope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from nzd.accounting.counters import volume_per_interval
from nzd.config.district import WaterConfig, WaterMeterRole, WaterSource

__all__ = [
    "MeterReadings",
    "Period",
    "WaterKpis",
    "district_water_kpis",
    "period_change",
    "period_edges",
    "site_water_kpis",
    "trend_per_period",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Period(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def period_edges(*, start_ms: int, end_ms: int, period: Period | str, timezone: str) -> IntArray:
    """Edges of the local calendar periods that cover ``[start_ms, end_ms)``, epoch ms.

    The first edge is the start of the period holding ``start_ms``; the last is the
    first edge at or after ``end_ms``. Days and months follow the district's clock
    (a DST day lasts 23 or 25 hours).
    """
    if end_ms <= start_ms:
        raise ValueError(f"end_ms ({end_ms}) must be after start_ms ({start_ms})")
    kind = Period(period)
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(start_ms / 1000, tz)
    if kind is Period.HOUR:
        first = local.replace(minute=0, second=0, microsecond=0)
        edge_s = first.timestamp()
        n = int(np.ceil((end_ms / 1000 - edge_s) / 3600.0))
        return np.asarray([round((edge_s + 3600 * k) * 1000) for k in range(n + 1)], dtype=np.int64)
    day = (local.date().replace(month=1, day=1) if kind is Period.YEAR
           else local.date().replace(day=1) if kind is Period.MONTH else local.date())
    edges: list[int] = []
    while True:
        edge = round(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)
        edges.append(edge)
        if edge >= end_ms:
            return np.asarray(edges, dtype=np.int64)
        if kind is Period.DAY:
            day = day + timedelta(days=1)
        elif kind is Period.YEAR:
            day = day.replace(year=day.year + 1)
        else:
            day = day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)


@dataclass(frozen=True, slots=True)
class MeterReadings:
    """Totaliser readings of one meter: ``volume_m3[i]`` read at ``times_ms[i]``."""

    times_ms: npt.ArrayLike
    volume_m3: npt.ArrayLike
    modulus_m3: float | None = None
    """Where the register rolls over, if it does."""


@dataclass(frozen=True, slots=True)
class WaterKpis:
    """Water KPIs per interval ``[edges_ms[k], edges_ms[k+1])``; every array has one value per interval."""

    edges_ms: IntArray
    intake_by_source_m3: dict[WaterSource, FloatArray]
    discharge_m3: FloatArray
    process_m3: FloatArray
    per_meter_m3: dict[str, FloatArray] = field(default_factory=dict)
    output_units: FloatArray | None = None
    production_unit: str | None = None
    supply_m3: FloatArray | None = None
    """Water supplied to others (the reuse plant's metered output); None: no supply meter."""

    @property
    def intake_m3(self) -> FloatArray:
        total = np.zeros(self.edges_ms.size - 1, dtype=np.float64)
        for volume in self.intake_by_source_m3.values():
            total = total + volume
        return total

    @property
    def reuse_ratio(self) -> FloatArray:
        """Recycled over total intake; NaN where the intake is zero."""
        recycled = self.intake_by_source_m3.get(WaterSource.RECYCLED, np.zeros(self.edges_ms.size - 1))
        return _ratio(recycled, self.intake_m3)

    @property
    def intensity_m3_per_unit(self) -> FloatArray | None:
        """Total intake per unit of output; NaN where nothing was produced or the output is not
        known, None without output."""
        if self.output_units is None:
            return None
        return _ratio(self.intake_m3, self.output_units)

    def totals(self) -> dict[str, float]:
        """Sums over all intervals, with the ratios recomputed from the sums."""
        intake = float(self.intake_m3.sum())
        recycled = float(self.intake_by_source_m3.get(WaterSource.RECYCLED, np.zeros(1)).sum())
        out: dict[str, float] = {f"intake_{s.value}_m3": float(v.sum())
                                 for s, v in self.intake_by_source_m3.items()}
        out.update(intake_m3=intake, discharge_m3=float(self.discharge_m3.sum()),
                   process_m3=float(self.process_m3.sum()),
                   reuse_ratio=recycled / intake if intake > 0 else float("nan"))
        if self.output_units is not None:
            # Intensity over the intervals whose output is known (NaN: not reported).
            known = np.isfinite(self.output_units)
            units = float(self.output_units[known].sum())
            out["output_units"] = units if known.any() else float("nan")
            out["intensity_m3_per_unit"] = (float(self.intake_m3[known].sum()) / units if units > 0
                                            else float("nan"))
        out["intake_trend_m3_per_period"] = trend_per_period(self.intake_m3)
        return out


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(num.shape, np.nan, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def site_water_kpis(
    *, water: WaterConfig, readings: Mapping[str, MeterReadings], edges_ms: npt.ArrayLike,
    output_units: npt.ArrayLike | None = None, reset_tolerance_m3: float = 0.0,
) -> WaterKpis:
    """KPIs of one site from its meters' totaliser readings (keyed by device id).

    A meter of the registry without readings counts as zero (the API shows coverage
    separately); readings of a device the registry does not list raise ValueError.
    ``output_units`` is the production per interval (e.g. from a counter through
    :func:`nzd.accounting.counters.counter_per_interval`, or pushed through the API).
    """
    edges = np.asarray(edges_ms, dtype=np.int64)
    n = edges.size - 1
    if n < 1:
        raise ValueError("edges_ms needs at least two edges")
    known = {m.device for m in water.meters}
    unknown = sorted(set(readings) - known)
    if unknown:
        raise ValueError(f"readings for devices that are not water meters of the site: {unknown}")
    by_source: dict[WaterSource, FloatArray] = {}
    discharge = np.zeros(n, dtype=np.float64)
    process = np.zeros(n, dtype=np.float64)
    supply: FloatArray | None = None
    per_meter: dict[str, FloatArray] = {}
    for meter in water.meters:
        r = readings.get(meter.device)
        volume = np.zeros(n, dtype=np.float64) if r is None else volume_per_interval(
            r.times_ms, r.volume_m3, edges, modulus_m3=r.modulus_m3, reset_tolerance_m3=reset_tolerance_m3)
        per_meter[meter.device] = volume
        if meter.role is WaterMeterRole.INTAKE:
            if meter.source is None:
                raise ValueError(f"intake meter {meter.device!r} has no source")
            by_source[meter.source] = by_source.get(meter.source, np.zeros(n)) + volume
        elif meter.role is WaterMeterRole.DISCHARGE:
            discharge += volume
        elif meter.role is WaterMeterRole.SUPPLY:
            supply = volume if supply is None else supply + volume
        else:
            process += volume
    units = None
    if output_units is not None:
        units = np.asarray(output_units, dtype=np.float64)
        if units.shape != (n,):
            raise ValueError(f"output_units needs {n} values (one per interval), got shape {units.shape}")
    return WaterKpis(edges_ms=edges, intake_by_source_m3=by_source, discharge_m3=discharge,
                     process_m3=process, per_meter_m3=per_meter, output_units=units,
                     production_unit=water.production_unit, supply_m3=supply)


def district_water_kpis(sites: Sequence[WaterKpis]) -> WaterKpis:
    """The district's KPIs: volumes summed over the sites; output (and so intensity) only
    when every site reports output in the same production unit."""
    if not sites:
        raise ValueError("no sites")
    edges = sites[0].edges_ms
    for s in sites[1:]:
        if not np.array_equal(s.edges_ms, edges):
            raise ValueError("sites' KPIs must share the same interval edges")
    n = edges.size - 1
    by_source: dict[WaterSource, FloatArray] = {}
    for s in sites:
        for source, volume in s.intake_by_source_m3.items():
            by_source[source] = by_source.get(source, np.zeros(n)) + volume
    # Intensity only means something when every site's output is counted in one unit.
    output: FloatArray | None = None
    units = {s.production_unit for s in sites}
    unit = units.pop() if len(units) == 1 else None
    if unit is not None and all(s.output_units is not None for s in sites):
        output = np.zeros(n, dtype=np.float64)
        for s in sites:
            output = output + np.asarray(s.output_units, dtype=np.float64)
    supplies = [s.supply_m3 for s in sites if s.supply_m3 is not None]
    return WaterKpis(edges_ms=edges, intake_by_source_m3=by_source,
                     supply_m3=np.sum(supplies, axis=0).astype(np.float64) if supplies else None,
                     discharge_m3=np.sum([s.discharge_m3 for s in sites], axis=0).astype(np.float64),
                     process_m3=np.sum([s.process_m3 for s in sites], axis=0).astype(np.float64),
                     output_units=output, production_unit=unit if output is not None else None)


def period_change(values: npt.ArrayLike) -> FloatArray:
    """Relative change of each interval against the one before (NaN for the first and where
    the one before is zero)."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan, dtype=np.float64)
    if v.size > 1:
        out[1:] = _ratio(v[1:] - v[:-1], v[:-1])
    return out


def trend_per_period(values: npt.ArrayLike) -> float:
    """Least-squares slope in units per interval over the finite values; NaN with fewer than two."""
    v = np.asarray(values, dtype=np.float64)
    x = np.arange(v.size, dtype=np.float64)
    ok = np.isfinite(v)
    if ok.sum() < 2:
        return float("nan")
    slope = np.polyfit(x[ok], v[ok], 1)[0]
    return float(slope)
