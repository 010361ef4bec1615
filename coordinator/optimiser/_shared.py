"""Shared energy per configuration and clock hour: the CER's hourly rule, linear.

Members share energy only with members under the same primary substation (a
configuration); what a kWh shared earns (TIP + valorisation) depends on the
configuration and the hour (``DistrictModel.shared_rates``). Per configuration c and
hour h: ``sh[c,h] <= sum of c's export in h`` and ``<= sum of c's import in h``; the
objective rewards ``sh`` at the rate, so at the optimum it is the minimum of the two.
"""

from __future__ import annotations

import numpy as np

from coordinator.model import DistrictModel, FloatArray, IntArray
from coordinator.optimiser._builder import LpBuilder

__all__ = ["add_shared_energy", "configuration_shared_kwh", "hourly_shared_kwh"]


def configuration_shared_kwh(import_kw: FloatArray, export_kw: FloatArray, hour_of_step: np.ndarray,
                             n_hours: int, step_h: float, configuration_of_site: IntArray,
                             configurations: int) -> FloatArray:
    """[configuration, hour] min(fed in, drawn) among each configuration's members."""
    fed = np.zeros((configurations, n_hours))
    drawn = np.zeros((configurations, n_hours))
    cfg = np.broadcast_to(configuration_of_site[:, None], import_kw.shape)
    hour = np.broadcast_to(hour_of_step[None, :], import_kw.shape)
    np.add.at(fed, (cfg, hour), export_kw * step_h)
    np.add.at(drawn, (cfg, hour), import_kw * step_h)
    return np.minimum(fed, drawn)


def hourly_shared_kwh(import_kw: FloatArray, export_kw: FloatArray, hour_of_step: np.ndarray,
                      n_hours: int, step_h: float,
                      configuration_of_site: IntArray | None = None) -> FloatArray:
    """Shared energy per hour, summed over the configurations (one when none is given)."""
    cfg = (np.zeros(import_kw.shape[0], np.int64) if configuration_of_site is None
           else np.asarray(configuration_of_site, np.int64))
    n = int(cfg.max()) + 1 if cfg.size else 1
    return configuration_shared_kwh(import_kw, export_kw, hour_of_step, n_hours, step_h, cfg, n).sum(axis=0)


def add_shared_energy(lp: LpBuilder, model: DistrictModel, *, imp: IntArray, exp: IntArray,
                      fixed_import_kw: FloatArray, fixed_export_kw: FloatArray, hour_of_step: IntArray,
                      rates: FloatArray) -> IntArray:
    """The ``sh[configuration, hour]`` variables, costing ``-rates``, bounded by each side's flows."""
    cfg = model.site_configuration
    C, H = rates.shape
    dt = model.step_h
    shared = lp.add_vars((C, H), cost=-rates)
    for flow, fixed in ((exp, fixed_export_kw), (imp, fixed_import_kw)):
        fixed_kwh = np.zeros((C, H))
        np.add.at(fixed_kwh, (np.broadcast_to(cfg[:, None], fixed.shape),
                              np.broadcast_to(hour_of_step[None, :], fixed.shape)), fixed * dt)
        rows = lp.add_rows((C, H), ub=fixed_kwh)
        lp.add_terms(rows, shared, 1.0)
        lp.add_terms(rows[cfg][:, hour_of_step], flow, -dt)
    return shared
