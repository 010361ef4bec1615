"""HiGHS through highspy: one model, solved as LP, re-solved warm with the integers fixed, then branched.

Keeping one HiGHS instance lets the second LP start from the first one's basis
(a tenth of the time of a cold solve) and lets the MILP start from the rounded
plan as its incumbent.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

import highspy
import numpy as np

from coordinator.model import FloatArray
from coordinator.optimiser._formulation import Problem

__all__ = ["HighsModel", "Result"]

_banner_lock = threading.Lock()
_banner_done = False


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance. HiGHS prints a banner from C++ on its first construction in a
    process; it would land in the middle of a command's output, so stdout is muted for it once."""
    global _banner_done
    with _banner_lock:
        if _banner_done:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True, slots=True)
class Result:
    x: FloatArray | None
    optimal: bool
    objective: float
    mip_gap: float | None
    message: str
    bound: float | None = None
    """The MIP's dual bound (a lower bound on the objective), when branch and bound ran."""


class HighsModel:
    def __init__(self, problem: Problem, *, threads: int | None = None) -> None:
        lp = problem.builder
        self._n = lp.n_vars
        self._lb = lp.lb
        self._ub = lp.ub
        self._ints = np.flatnonzero(lp.integrality > 0).astype(np.int32)
        h = _new_highs()
        if threads:
            h.setOptionValue("threads", threads)
        h.addVars(self._n, self._lb, self._ub)
        if self._n:
            h.changeColsCost(self._n, np.arange(self._n, dtype=np.int32), lp.cost)
        a = problem.matrix
        h.addRows(lp.n_rows, lp.row_lb, lp.row_ub, a.nnz, a.indptr.astype(np.int32),
                  a.indices.astype(np.int32), a.data.astype(np.float64))
        # The cost of fixed flows: objectives, bounds and the MIP gap are then in plan EUR.
        h.changeObjectiveOffset(float(problem.constant_eur))
        self._h = h

    @property
    def has_integers(self) -> bool:
        return bool(self._ints.size)

    def _result(self) -> Result:
        h = self._h
        status = h.getModelStatus()
        info = h.getInfo()
        feasible = info.primal_solution_status == 2  # kSolutionStatusFeasible
        x = np.asarray(h.getSolution().col_value, dtype=np.float64) if feasible else None
        gap = float(info.mip_gap) if self.has_integers and np.isfinite(info.mip_gap) else None
        bound = float(info.mip_dual_bound) if self.has_integers and np.isfinite(info.mip_dual_bound) else None
        return Result(x=x, optimal=status == highspy.HighsModelStatus.kOptimal,
                      objective=float(info.objective_function_value), mip_gap=gap,
                      message=h.modelStatusToString(status), bound=bound)

    def set_cost(self, cost: FloatArray) -> None:
        """Replace the objective (e.g. without penalties, for a bound on the real objective)."""
        if self._n:
            self._h.changeColsCost(self._n, np.arange(self._n, dtype=np.int32), cost)

    def solve_lp(self, *, time_limit_s: float, lb: FloatArray | None = None,
                 ub: FloatArray | None = None) -> Result:
        """The relaxation; with ``lb``/``ub``, the integer columns' bounds are set first (warm start)."""
        h = self._h
        h.setOptionValue("time_limit", max(time_limit_s, 0.05))
        if lb is not None and ub is not None and self._ints.size:
            h.changeColsBounds(self._ints.size, self._ints, lb[self._ints], ub[self._ints])
        return _run(h, self)

    def solve_mip(self, *, time_limit_s: float, gap: float, start: FloatArray | None) -> Result:
        """Branch and bound with the integers' original bounds, from ``start`` if given."""
        h = self._h
        if self._ints.size:
            h.changeColsBounds(self._ints.size, self._ints, self._lb[self._ints], self._ub[self._ints])
            h.changeColsIntegrality(self._ints.size, self._ints,
                                    np.full(self._ints.size, highspy.HighsVarType.kInteger))
        h.setOptionValue("time_limit", max(time_limit_s, 0.05))
        h.setOptionValue("mip_rel_gap", gap)
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = list(start)
            h.setSolution(solution)
        return _run(h, self)


def _run(h: highspy.Highs, model: HighsModel) -> Result:
    h.run()
    return model._result()
