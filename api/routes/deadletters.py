"""What ingest refused, for the district operator only: site managers and the public get 403.

A dead letter carries another firm's raw payload and the reason it was refused, so only the
operator, who sees every site anyway, may read them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deadletters import DeadLetterOut
from api.deps import OperatorDep, StateDep
from api.problems import problems

router = APIRouter(prefix="/api/v1", tags=["ops"])


class DeadLettersOut(BaseModel):
    total: int = Field(description="Dead letters received since the API started", examples=[3])
    by_kind: dict[str, int] = Field(description="Count per kind of reason",
                                    examples=[{"limit exceeded": 2, "invalid message": 1}])
    recent: list[DeadLetterOut] = Field(description="The newest first")


@router.get("/deadletters", summary="Recent messages ingest refused, with the reason (operator only)",
            responses=problems(401, 403))
async def deadletters(state: StateDep, _operator: OperatorDep,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> DeadLettersOut:
    letters = state.hub.deadletters
    recent = list(letters.recent)[-limit:]
    recent.reverse()
    return DeadLettersOut(total=letters.total, by_kind=dict(letters.by_kind), recent=recent)
