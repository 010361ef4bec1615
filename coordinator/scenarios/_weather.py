"""PV output per kWp over a year: the project's synthetic year or a typical-year file (EPW, PVGIS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coordinator.model import FloatArray
from nzd.series import pv_power_w

__all__ = ["TypicalYear", "pv_yield_kw_per_kwp", "read_typical_year"]

PERFORMANCE_RATIO = 0.86
"""Inverter, wiring, soiling and mismatch losses: the same figure as the synthetic series."""


class TypicalYear:
    """Hourly GHI, DNI, DHI (W/m²) and air temperature (°C) by hour of a non-leap year (8760)."""

    def __init__(self, ghi: FloatArray, dni: FloatArray, dhi: FloatArray, temp_c: FloatArray) -> None:
        if not all(a.size == 8760 for a in (ghi, dni, dhi, temp_c)):
            raise ValueError("a typical year has 8760 hourly values")
        self.ghi, self.dni, self.dhi, self.temp_c = ghi, dni, dhi, temp_c


def read_typical_year(path: Path, *, source: str) -> TypicalYear:
    """An EPW or PVGIS TMY file (pvlib's readers); values are taken by hour of year."""
    import pvlib

    if source == "epw":
        data, _ = pvlib.iotools.read_epw(path)
    elif source == "pvgis":
        out = pvlib.iotools.read_pvgis_tmy(path, map_variables=True)
        data = out[0]
    else:
        raise ValueError(f"unknown weather source {source!r}")
    data = data.iloc[:8760] if len(data) >= 8760 else data
    if len(data) != 8760:
        raise ValueError(f"{path.name}: a typical year has 8760 hours, found {len(data)}")

    def col(name: str) -> FloatArray:
        return np.nan_to_num(data[name].to_numpy(np.float64))

    return TypicalYear(col("ghi"), col("dni"), col("dhi"), col("temp_air"))


def pv_yield_kw_per_kwp(
    epoch_s: FloatArray,
    *,
    lat: float,
    lon: float,
    tilt_deg: float,
    azimuth_deg: float,
    weather: TypicalYear | None,
) -> FloatArray:
    """AC kW per kWp at ``epoch_s`` (step starts); ``weather`` None: the synthetic year."""
    if weather is None:
        return pv_power_w(1.0, epoch_s, lat=lat, lon=lon, tilt_deg=tilt_deg, azimuth_deg=azimuth_deg) / 1000.0
    import pandas as pd
    import pvlib

    idx = pd.to_datetime(epoch_s, unit="s", utc=True)
    hour = np.minimum(idx.day_of_year.to_numpy() - 1, 364) * 24 + idx.hour.to_numpy()
    pos = pvlib.solarposition.get_solarposition(idx, lat, lon, method="nrel_numpy")
    zenith = pos["apparent_zenith"].to_numpy(np.float64)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        zenith,
        pos["azimuth"].to_numpy(np.float64),
        weather.dni[hour],
        weather.ghi[hour],
        weather.dhi[hour],
        albedo=0.2,
        model="isotropic",
    )["poa_global"]
    poa_w_m2 = np.nan_to_num(np.asarray(poa, np.float64))
    cell_c = weather.temp_c[hour] + 0.03 * poa_w_m2
    kw = poa_w_m2 / 1000.0 * PERFORMANCE_RATIO * (1.0 - 0.004 * (cell_c - 25.0))
    return np.asarray(np.clip(kw, 0.0, 1.0), np.float64)
