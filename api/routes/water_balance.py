"""Water balances (issue 20): each firm's intake against its discharge and declared use, and the
recycled-water network (the reuse plant's output against the firms' recycled intake).

Scope: a firm's balance is the firm's (site manager of the site, operator). The network's
balance holds the reuse plant's own output, so it is shown to the operator and the plant's
site managers only; the public sees neither.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth.principal import Role
from api.deps import PrincipalDep, SiteDep, StateDep
from api.periods import FromQuery, ToQuery
from api.problems import ProblemError, problems
from api.routes.water import report_window, rounded, site_kpis
from nzd.accounting import WaterBalance, balance_breaches, firm_balance, recycled_network_balance
from nzd.accounting.water import Period, period_edges
from nzd.config import WaterMeterRole

router = APIRouter(prefix="/api/v1", tags=["water"])

PeriodQuery = Annotated[Period, Query(description="Rows per local hour, day or month")]


class BalanceRow(BaseModel):
    period_start_ms: int = Field(examples=[1_764_025_200_000])
    in_m3: float | None = Field(None, description="the plant's output (network) or the firm's intake",
                                examples=[1200.0])
    explained_m3: float | None = Field(None, description="the firms' recycled intake (network), or discharge "
                                       "plus declared use (firm)", examples=[1164.0])
    unexplained_m3: float | None = Field(None, description="in minus explained: lost (network) or "
                                         "unaccounted for (firm)", examples=[36.0])
    unexplained_pct: float | None = Field(None, description="unexplained over in, %", examples=[3.0])
    over_threshold: bool = Field(description="the unexplained part is above the threshold", examples=[True])


class BalanceReport(BaseModel):
    scope: str = Field(description="a site id, or 'recycled-network'", examples=["tintoria-rossi"])
    period: str = Field(examples=["day"])
    threshold_pct: float = Field(description="alert above this share of what went in", examples=[2.0])
    rows: list[BalanceRow]
    totals: BalanceRow


def _balance_report(scope: str, period: Period, balance: WaterBalance, threshold_pct: float) -> BalanceReport:
    over = balance_breaches(balance, threshold_pct=threshold_pct)
    lost, pct = balance.unexplained_m3, balance.unexplained_pct
    rows = [BalanceRow(period_start_ms=int(t), in_m3=rounded(balance.in_m3[i]),
                       explained_m3=rounded(balance.explained_m3[i]), unexplained_m3=rounded(lost[i]),
                       unexplained_pct=rounded(pct[i]), over_threshold=bool(over[i]))
            for i, t in enumerate(balance.edges_ms[:-1])]
    total = WaterBalance(edges_ms=balance.edges_ms[[0, -1]], in_m3=np.asarray([balance.in_m3.sum()]),
                         explained_m3=np.asarray([balance.explained_m3.sum()]))
    totals = BalanceRow(period_start_ms=int(balance.edges_ms[0]), in_m3=rounded(total.in_m3[0]),
                        explained_m3=rounded(total.explained_m3[0]),
                        unexplained_m3=rounded(total.unexplained_m3[0]),
                        unexplained_pct=rounded(total.unexplained_pct[0]),
                        over_threshold=bool(balance_breaches(total, threshold_pct=threshold_pct)[0]))
    return BalanceReport(scope=scope, period=period.value, threshold_pct=threshold_pct, rows=rows,
                         totals=totals)


@router.get("/sites/{site}/water/balance", summary="A firm's water balance: intake against discharge plus "
            "declared use", responses=problems(403, 404, 422, 503))
async def site_water_balance(site: SiteDep, state: StateDep, from_: FromQuery = None, to: ToQuery = None,
                             period: PeriodQuery = Period.DAY) -> BalanceReport:
    start_ms, end_ms = report_window(state, from_, to, period)
    edges = period_edges(start_ms=start_ms, end_ms=end_ms, period=period, timezone=state.district.timezone)
    k = await site_kpis(state, site, edges, period)
    if k is None or site.water is None:
        raise ProblemError(404, f"site '{site.id}' has no water meters in the registry")
    balance = firm_balance(k, water=site.water, timezone=state.district.timezone)
    return _balance_report(site.id, period, balance, site.water.balance_threshold_pct)


@router.get("/district/water/recycled-network", summary="The recycled-water network's balance: the reuse "
            "plant's output against the firms' recycled intake, losses in m3 and % (operator, the plant's "
            "site manager)", responses=problems(403, 404, 422, 503))
async def recycled_network(state: StateDep, principal: PrincipalDep, from_: FromQuery = None,
                           to: ToQuery = None, period: PeriodQuery = Period.DAY) -> BalanceReport:
    plants = [s.id for s in state.district.sites if s.water is not None
              and any(m.role is WaterMeterRole.SUPPLY for m in s.water.meters)]
    if not plants:
        raise ProblemError(404, "no site of the district has a supply meter (the reuse plant's output)")
    if principal.district_only or not (principal.role is Role.OPERATOR
                                             or any(principal.may_see_site(p) for p in plants)):
        raise ProblemError(403, "the recycled network's balance shows the reuse plant's own output: the "
                                "operator and the plant's site managers see it")
    start_ms, end_ms = report_window(state, from_, to, period)
    edges = period_edges(start_ms=start_ms, end_ms=end_ms, period=period, timezone=state.district.timezone)
    parts = [k for s in state.district.sites if (k := await site_kpis(state, s, edges, period)) is not None]
    balance = recycled_network_balance(parts)
    assert balance is not None  # a plant exists
    return _balance_report("recycled-network", period, balance, state.district.recycled_loss_threshold_pct)


