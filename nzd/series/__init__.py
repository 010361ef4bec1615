"""Realistic load, PV and water series, shared by the device simulator and offline planning.

All functions take ``times`` as epoch seconds (a float or an array) or aware
datetimes and return numpy arrays, so a year at 15 minutes costs milliseconds:

- :func:`load_profile_w` — consumption following a BDEW standard load profile
  (demandlib's data), scaled to an annual energy;
- :func:`pv_power_w` — AC power of a PV plant at a latitude/longitude with the
  clouds of a DWD test reference year (demandlib's data) and pvlib's transposition;
- :func:`water_flow_m3h` — process or household water demand plus an optional leak;
  :func:`cumulative_m3` integrates a flow into a totaliser.
"""

from nzd.series._time import FloatArray, Times, as_epoch_s, time_grid
from nzd.series.loads import LOAD_PROFILES, load_profile_w, load_shape
from nzd.series.pv import TRY_REGIONS, clear_sky_index, pv_power_w
from nzd.series.water import WATER_PATTERNS, cumulative_m3, water_flow_m3h

__all__ = [
    "LOAD_PROFILES",
    "TRY_REGIONS",
    "WATER_PATTERNS",
    "FloatArray",
    "Times",
    "as_epoch_s",
    "clear_sky_index",
    "cumulative_m3",
    "load_profile_w",
    "load_shape",
    "pv_power_w",
    "time_grid",
    "water_flow_m3h",
]
