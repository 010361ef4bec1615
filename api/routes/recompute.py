"""After readings reached the store without passing the live subscription (an import, a
backfill of the rollups, a restore), the operator tells the API to compute the figures of that
period again: cached KPI answers (api/kpi_cache.py) and archived days (api/energy_archive.py)
that reach into it are dropped, and computed from the store at the next request.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import OperatorDep, StateDep
from api.periods import LONG_SPAN_MS, FromQuery, ToQuery, resolve_period
from api.problems import problems

router = APIRouter(prefix="/api/v1", tags=["ops"])


class Recomputed(BaseModel):
    kpi_answers: int = Field(description="cached KPI answers dropped", examples=[4])
    archived_days: int = Field(description="site-days of measured energy dropped from the archive",
                               examples=[62])


@router.post("/ops/recompute", summary="Compute a period's figures again from the store (operator only)",
             responses=problems(401, 403, 422))
async def recompute(state: StateDep, _operator: OperatorDep, from_: FromQuery = None,
                    to: ToQuery = None) -> Recomputed:
    start_ms, end_ms = resolve_period(from_, to, max_span_ms=LONG_SPAN_MS)
    return Recomputed(kpi_answers=state.hub.kpis.forget(start_ms, end_ms),
                      archived_days=state.hub.archive.forget(start_ms, end_ms))
