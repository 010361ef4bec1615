"""Sweeps: many scenarios (price and capex sensitivities, many districts) run in parallel.

One code path: a :class:`concurrent.futures.Executor` maps :func:`run_scenario` over the
scenarios; it is a pool of local processes, or a Dask cluster's executor when an address is
given (``dask.distributed.Client(address).get_executor()``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from coordinator.scenarios._run import run_scenario
from coordinator.scenarios._spec import ScenarioSpec

__all__ = ["executor", "sensitivities", "sweep"]


def sensitivities(
    spec: ScenarioSpec,
    *,
    import_price_factors: Sequence[float] = (1.0,),
    pv_capex_factors: Sequence[float] = (1.0,),
) -> list[ScenarioSpec]:
    """The scenario once per combination of factors, named after them."""
    out = []
    for imp, capex in itertools.product(import_price_factors, pv_capex_factors):
        costs = spec.pv_costs.model_copy(
            update={"eur_per_kwp": {k: v * capex for k, v in spec.pv_costs.eur_per_kwp.items()}}
        )
        out.append(
            spec.model_copy(
                update={
                    "name": f"{spec.name}-imp{imp:g}-capex{capex:g}",
                    "import_price_factor": spec.import_price_factor * imp,
                    "pv_costs": costs,
                }
            )
        )
    return out


@contextmanager
def executor(*, dask_address: str | None = None, processes: int = 2) -> Iterator[Executor]:
    """Local processes, or the Dask cluster at ``dask_address`` (``tcp://host:8786``)."""
    if dask_address is None:
        with ProcessPoolExecutor(max_workers=processes) as pool:
            yield pool
        return
    from dask.distributed import Client

    with Client(dask_address, timeout=30) as client:
        yield client.get_executor()


def _run(spec: ScenarioSpec) -> dict[str, Any]:
    return run_scenario(spec)


def sweep(
    specs: Sequence[ScenarioSpec], *, dask_address: str | None = None, processes: int = 2
) -> list[dict[str, Any]]:
    """Every scenario's result, in the order given."""
    with executor(dask_address=dask_address, processes=processes) as pool:
        return list(pool.map(_run, specs))
