"""Binaries against charging and discharging at once, and importing and exporting at once.

Added only where doing either could pay (see :func:`add_binaries`); where a binary per step
would be too many, a penalty on export stands in for the import/export ones.
"""

from __future__ import annotations

import numpy as np

from coordinator.model import DistrictModel, FloatArray, IntArray
from coordinator.optimiser._builder import LpBuilder
from coordinator.optimiser._types import PlanOptions

__all__ = ["add_binaries"]

_EPS = 1e-9


def add_binaries(lp: LpBuilder, model: DistrictModel, options: PlanOptions, p_imp: FloatArray,
                 p_exp: FloatArray, inc: float, imp: IntArray, exp: IntArray, imp_ub: FloatArray,
                 exp_ub: FloatArray, ch: IntArray, dis: IntArray,
                 penalised: list[tuple[IntArray, FloatArray]]) -> tuple[IntArray, IntArray, IntArray]:
    """Binaries against simultaneous charge/discharge and import/export where they matter.

    Wasting energy (charging and discharging at once) pays only where importing a kWh
    costs no more than the incentive it could earn; importing and exporting at once
    pays only where the import-export spread is within the incentive. Elsewhere the
    LP optimum never does either, so "auto" adds binaries only at those steps.
    """
    bat = model.batteries
    mode = options.battery_binaries
    host_price = p_imp[bat.site_index]
    need_b = np.ones(ch.shape, np.bool_) if mode == "always" else host_price <= inc + _EPS
    need_b &= (bat.charge_kw > 0)[:, None]
    if mode == "never":
        need_b[:] = False
    # Import/export exclusivity never depends on the battery option: where the spread is within
    # the incentive, a binary (or the penalty in its place) forbids it.
    need_g = (exp >= 0) & (imp >= 0)
    if mode != "always":
        need_g &= p_imp - p_exp <= inc + _EPS
    out: list[IntArray] = []
    on: list[IntArray] = []
    off: list[IntArray] = []
    bi, bt = np.nonzero(need_b)
    if bi.size:
        z = lp.add_vars((bi.size,), ub=1.0, integer=True)
        r1 = lp.add_rows((bi.size,), ub=0.0)
        lp.add_terms(r1, ch[bi, bt], 1.0)
        lp.add_terms(r1, z, -bat.charge_kw[bi])
        r2 = lp.add_rows((bi.size,), ub=bat.discharge_kw[bi])
        lp.add_terms(r2, dis[bi, bt], 1.0)
        lp.add_terms(r2, z, bat.discharge_kw[bi])
        out.append(z)
        on.append(ch[bi, bt])
        off.append(dis[bi, bt])
    si, st = np.nonzero(need_g)
    if mode != "always" and si.size > options.max_grid_binaries:
        # Penalise export where trading with oneself would pay: no gain left in doing it.
        penalty = inc - (p_imp - p_exp)[si, st] + 1e-4
        cost = lp.cost
        cost[exp[si, st]] += model.step_h * penalty
        lp.replace_cost(cost)
        penalised.append((exp[si, st], model.step_h * penalty))
        si = st = np.zeros(0, np.int64)
    if si.size:
        z = lp.add_vars((si.size,), ub=1.0, integer=True)
        r1 = lp.add_rows((si.size,), ub=0.0)
        lp.add_terms(r1, imp[si, st], 1.0)
        lp.add_terms(r1, z, -imp_ub[si, st])
        r2 = lp.add_rows((si.size,), ub=exp_ub[si, st])
        lp.add_terms(r2, exp[si, st], 1.0)
        lp.add_terms(r2, z, exp_ub[si, st])
        out.append(z)
        on.append(imp[si, st])
        off.append(exp[si, st])
    if not out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out), np.concatenate(on), np.concatenate(off)
