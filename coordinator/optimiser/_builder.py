"""A vectorised LP/MILP assembler: variables come in numpy blocks, constraints as COO triplets.

No Python object per variable or per row: a block of ``n`` variables is one call
that returns their column indices as an array; rows are added in bulk and
filled with ``(rows, cols, values)`` arrays that broadcast.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from coordinator.model import FloatArray, IntArray

__all__ = ["LpBuilder", "put", "take"]


def take(x: FloatArray, idx: IntArray) -> FloatArray:
    """Values of a (possibly masked) block: 0 where the variable does not exist (index -1)."""
    return np.where(idx >= 0, x[np.maximum(idx, 0)], 0.0) if x.size else np.zeros(idx.shape)


def put(x: FloatArray, idx: IntArray, values: float | FloatArray) -> None:
    """Write values into a (possibly masked) block; entries without a variable are skipped."""
    vals = np.broadcast_to(np.asarray(values, dtype=np.float64), idx.shape)
    keep = idx >= 0
    x[idx[keep]] = vals[keep]


class LpBuilder:
    def __init__(self) -> None:
        self.n_vars = 0
        self.n_rows = 0
        self._lb: list[FloatArray] = []
        self._ub: list[FloatArray] = []
        self._cost: list[FloatArray] = []
        self._int: list[FloatArray] = []
        self._row_lb: list[FloatArray] = []
        self._row_ub: list[FloatArray] = []
        self._r: list[IntArray] = []
        self._c: list[IntArray] = []
        self._v: list[FloatArray] = []

    def add_vars(self, shape: tuple[int, ...], *, lb: float | FloatArray = 0.0,
                 ub: float | FloatArray = np.inf, cost: float | FloatArray = 0.0,
                 integer: bool = False, mask: np.ndarray | None = None) -> IntArray:
        """Column indices of a new block of variables, shaped ``shape``.

        With ``mask``, only the entries where it is true get a variable; the others
        hold -1 and are dropped by :meth:`add_terms` (a variable that would be fixed at
        zero costs the solver's presolve time, so it is never created).
        """
        keep = np.ones(shape, np.bool_) if mask is None else np.broadcast_to(mask, shape)
        n = int(keep.sum())
        idx = np.full(shape, -1, dtype=np.int64)
        idx[keep] = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self.n_vars += n
        for target, value in ((self._lb, lb), (self._ub, ub), (self._cost, cost)):
            target.append(np.broadcast_to(np.asarray(value, dtype=np.float64), shape)[keep].copy())
        self._int.append(np.full(n, 1.0 if integer else 0.0))
        return idx

    def add_rows(self, shape: tuple[int, ...], *, lb: float | FloatArray = -np.inf,
                 ub: float | FloatArray = np.inf) -> IntArray:
        """Row indices of a new block of constraints ``lb <= a x <= ub``."""
        n = int(np.prod(shape, dtype=np.int64))
        idx = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64).reshape(shape)
        self.n_rows += n
        self._row_lb.append(np.broadcast_to(np.asarray(lb, dtype=np.float64), shape).ravel().copy())
        self._row_ub.append(np.broadcast_to(np.asarray(ub, dtype=np.float64), shape).ravel().copy())
        return idx

    def add_terms(self, rows: IntArray, cols: IntArray, values: float | FloatArray = 1.0) -> None:
        """Add ``values * x[cols]`` to ``rows``; the three broadcast against each other."""
        r, c, v = np.broadcast_arrays(np.asarray(rows), np.asarray(cols),
                                      np.asarray(values, dtype=np.float64))
        keep = (c >= 0) & (r >= 0)
        if keep.any():
            self._r.append(r[keep].astype(np.int64))
            self._c.append(c[keep].astype(np.int64))
            self._v.append(v[keep].astype(np.float64))

    def replace_cost(self, cost: FloatArray) -> None:
        if cost.shape != (self.n_vars,):
            raise ValueError(f"cost must have {self.n_vars} entries, got {cost.shape}")
        self._cost = [cost.astype(np.float64)]

    @property
    def cost(self) -> FloatArray:
        return np.concatenate(self._cost) if self._cost else np.zeros(0)

    @property
    def lb(self) -> FloatArray:
        return np.concatenate(self._lb) if self._lb else np.zeros(0)

    @property
    def ub(self) -> FloatArray:
        return np.concatenate(self._ub) if self._ub else np.zeros(0)

    @property
    def integrality(self) -> FloatArray:
        return np.concatenate(self._int) if self._int else np.zeros(0)

    @property
    def row_lb(self) -> FloatArray:
        return np.concatenate(self._row_lb) if self._row_lb else np.zeros(0)

    @property
    def row_ub(self) -> FloatArray:
        return np.concatenate(self._row_ub) if self._row_ub else np.zeros(0)

    def matrix(self) -> sp.csr_array:
        if not self._r:
            return sp.csr_array((self.n_rows, self.n_vars))
        rows = np.concatenate(self._r)
        cols = np.concatenate(self._c)
        vals = np.concatenate(self._v)
        return sp.csr_array(sp.coo_array((vals, (rows, cols)), shape=(self.n_rows, self.n_vars)))
