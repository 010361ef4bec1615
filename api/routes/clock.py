"""The district clock: the dashboard reads it once and keeps the same time as every process."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from nzd.clock import district_clock

router = APIRouter(prefix="/api/v1", tags=["district"])


class ClockOut(BaseModel):
    now_ms: int = Field(description="District time now, epoch ms (simulated in the demo)",
                        examples=[1_781_672_400_000])
    speed: float = Field(description="District seconds per real second: 1 in production", examples=[60.0])
    simulated: bool = Field(description="True when district time is not the wall clock", examples=[True])


@router.get("/clock", response_model=ClockOut, summary="District time now and how fast it runs")
async def clock() -> ClockOut:
    c = district_clock()
    return ClockOut(now_ms=c.now_ms(), speed=c.speed, simulated=c.is_simulated)
