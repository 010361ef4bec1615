"""PV output from the German test reference years (DWD TRY 2010) that demandlib ships.

The TRY gives measured-like hourly irradiance for one station. We take its
clear-sky index (how cloudy each hour was) and apply it to the clear sky at the
plant's own latitude and longitude, then transpose to the module plane with pvlib.
So the sun's path is right for the site (Prato, say) and the clouds are a real
year's. No file is fetched at run time.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from nzd.series._time import FloatArray, Times, as_epoch_s

__all__ = ["TRY_REGIONS", "clear_sky_index", "pv_power_w"]

TRY_REGIONS = tuple(range(1, 16))
_MIN_CLEAR_SKY_W_M2 = 50.0


def _try_file(region: int) -> Path:
    import demandlib.vdi

    return Path(demandlib.vdi.__file__).parent / "resources_weather" / f"TRY2010_{region:02d}_Jahr.dat"


@functools.cache
def _try_year(region: int) -> tuple[float, float, FloatArray, FloatArray]:
    """Station latitude, longitude, hourly kt (8760) and hourly air temperature in °C."""
    if region not in TRY_REGIONS:
        raise ValueError(f"TRY region must be 1..15, not {region}")
    text = _try_file(region).read_bytes().decode("utf-8", errors="replace")
    m = re.search(r"Lage:\s*(\d+)\D+?(\d+)'N.*?(\d+)\D+?(\d+)'O", text)
    if m is None:
        raise ValueError(f"TRY region {region}: station position not found")
    lat = int(m.group(1)) + int(m.group(2)) / 60.0
    lon = int(m.group(3)) + int(m.group(4)) / 60.0
    body = text.split("***", 1)[1].split("\n")
    rows = [line.split() for line in body if line.strip()]
    data = np.array([[float(r[8]), float(r[13]), float(r[14])] for r in rows[:8760]])
    temp_c, ghi = data[:, 0], data[:, 1] + data[:, 2]
    # row i covers hour-ending HH (MEZ = UTC+1): its centre is at i - 0.5 h UTC from 1 Jan 00:00
    centres_h = np.arange(8760, dtype=np.float64) - 0.5
    cs = _clear_sky_ghi(centres_h * 3600.0 + _EPOCH_2023, lat, lon)
    kt = np.full(8760, np.nan)
    ok = cs >= _MIN_CLEAR_SKY_W_M2
    kt[ok] = ghi[ok] / cs[ok]
    # low sun: use the day's energy-weighted index instead of a noisy ratio
    for d in range(365):
        sl = slice(d * 24, d * 24 + 24)
        day_cs = cs[sl][ok[sl]].sum()
        day_kt = ghi[sl][ok[sl]].sum() / day_cs if day_cs > 0 else 0.5
        kt[sl] = np.where(ok[sl], kt[sl], day_kt)
    return lat, lon, np.clip(kt, 0.0, 1.3), temp_c


_EPOCH_2023 = 1_672_531_200.0  # 2023-01-01T00:00Z, a non-leap year like the TRY


def _solar(epoch_s: FloatArray, lat: float, lon: float) -> tuple[FloatArray, FloatArray]:
    import pandas as pd
    import pvlib

    idx = pd.to_datetime(epoch_s, unit="s", utc=True)
    pos = pvlib.solarposition.get_solarposition(idx, lat, lon, method="nrel_numpy")
    return pos["apparent_zenith"].to_numpy(np.float64), pos["azimuth"].to_numpy(np.float64)


def _haurwitz(zenith_deg: FloatArray) -> FloatArray:
    """Haurwitz clear-sky GHI (the model pvlib.clearsky.haurwitz implements)."""
    cos_z = np.cos(np.radians(zenith_deg))
    out = np.zeros_like(cos_z)
    up = cos_z > 0.01
    out[up] = 1098.0 * cos_z[up] * np.exp(-0.059 / cos_z[up])
    return out


def _clear_sky_ghi(epoch_s: FloatArray, lat: float, lon: float) -> FloatArray:
    zenith, _ = _solar(epoch_s, lat, lon)
    return _haurwitz(zenith)


def _hour_of_year(epoch_s: FloatArray) -> FloatArray:
    import pandas as pd

    idx = pd.to_datetime(epoch_s, unit="s", utc=True)
    doy = np.minimum(idx.day_of_year.to_numpy() - 1, 364)  # 31 Dec of a leap year reuses 30 Dec
    return doy * 24.0 + (idx.hour + idx.minute / 60.0 + idx.second / 3600.0).to_numpy(np.float64)


def _hourly(values: FloatArray, epoch_s: FloatArray) -> FloatArray:
    pos = _hour_of_year(epoch_s) + 0.5
    return np.interp(pos, np.arange(8760, dtype=np.float64), values, period=8760.0)


def clear_sky_index(times: Times, *, try_region: int = 13) -> FloatArray:
    """How clear the sky is at ``times`` (0 overcast .. about 1 clear), from the TRY year."""
    return _hourly(_try_year(try_region)[2], as_epoch_s(times))


def pv_power_w(kwp: float, times: Times, *, lat: float, lon: float, tilt_deg: float = 30.0,
               azimuth_deg: float = 180.0, performance_ratio: float = 0.86,
               inverter_kw: float | None = None, try_region: int = 13) -> FloatArray:
    """AC power in W of a ``kwp`` plant at ``lat``/``lon`` (module tilt, azimuth 180 = south).

    Weather (clear-sky index, air temperature) is the DWD TRY 2010 of ``try_region``
    (13: southern Bavaria, the nearest to northern Italy). Output is clipped at
    ``inverter_kw`` (default: ``kwp``).
    """
    import pandas as pd
    import pvlib

    if kwp < 0:
        raise ValueError("kwp must not be negative")
    epoch_s = as_epoch_s(times)
    _, _, kt_hourly, temp_hourly = _try_year(try_region)
    zenith, azimuth = _solar(epoch_s, lat, lon)
    ghi = _haurwitz(zenith) * _hourly(kt_hourly, epoch_s)
    idx = pd.to_datetime(epoch_s, unit="s", utc=True)
    split = pvlib.irradiance.erbs(ghi, zenith, idx.day_of_year.to_numpy())
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, zenith, azimuth,
        np.nan_to_num(np.asarray(split["dni"], np.float64)), ghi,
        np.nan_to_num(np.asarray(split["dhi"], np.float64)), albedo=0.2, model="isotropic",
    )["poa_global"]
    poa_w_m2 = np.nan_to_num(np.asarray(poa, np.float64))
    cell_c = _hourly(temp_hourly, epoch_s) + 0.03 * poa_w_m2
    power = kwp * poa_w_m2 * performance_ratio * (1.0 - 0.004 * (cell_c - 25.0))
    limit_w = (inverter_kw if inverter_kw is not None else kwp) * 1000.0
    return np.clip(power, 0.0, limit_w)
