"""Hourly zonal prices (Pz) for settlement: pushed by the operator, read by anyone (market data)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from api.deps import OperatorDep, StateDep
from api.periods import FromQuery, ToQuery, resolve_period
from api.problems import ProblemError, problems
from nzd.prices import MAX_PRICE_EUR_PER_MWH, hourly_prices, write_prices

router = APIRouter(prefix="/api/v1", tags=["settlement"])

HOUR_MS = 3_600_000


class HourPrice(BaseModel):
    time: datetime = Field(description="Start of the clock hour (ISO 8601 with a time zone)",
                           examples=["2026-06-01T10:00:00+02:00"])
    eur_per_mwh: float = Field(ge=-MAX_PRICE_EUR_PER_MWH, le=MAX_PRICE_EUR_PER_MWH, allow_inf_nan=False,
                               examples=[92.4])


class PricePush(BaseModel):
    prices: list[HourPrice] = Field(min_length=1, max_length=24 * 400)


class PriceRow(BaseModel):
    hour_start_ms: int = Field(examples=[1_780_300_800_000])
    eur_per_mwh: float | None = Field(description="null: no stored price (the registry's constant applies)",
                                      examples=[92.4])


class PushResult(BaseModel):
    stored: int = Field(examples=[24])


@router.put("/district/prices", summary="Store hourly zonal prices (operator); a pushed hour is replaced",
            responses=problems(403, 422, 503))
async def put_prices(state: StateDep, principal: OperatorDep,
                     body: Annotated[PricePush, Body()]) -> PushResult:
    pairs = []
    for i, p in enumerate(body.prices):
        if p.time.tzinfo is None:
            raise ProblemError(422, f"body.prices[{i}].time: needs a time zone")
        ms = round(p.time.timestamp() * 1000)
        if ms % HOUR_MS:
            raise ProblemError(422, f"body.prices[{i}].time: must be the start of a clock hour")
        pairs.append((ms, p.eur_per_mwh))
    n = await write_prices(state.store, district=state.district.district, prices=pairs,
                           source=f"api:{principal.name}")
    return PushResult(stored=n)


@router.get("/district/prices", summary="Hourly zonal prices as stored (default: the last 24 hours)",
            responses=problems(422, 503))
async def get_prices(state: StateDep, from_: FromQuery = None, to: ToQuery = None) -> list[PriceRow]:
    start_ms, end_ms = resolve_period(from_, to)
    hours = np.arange(start_ms // HOUR_MS * HOUR_MS, end_ms, HOUR_MS, dtype=np.int64)
    values = await hourly_prices(state.store, district=state.district.district, hour_start_ms=hours)
    return [PriceRow(hour_start_ms=int(t), eur_per_mwh=None if np.isnan(v) else float(v))
            for t, v in zip(hours, values, strict=True)]
