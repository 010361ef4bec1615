"""Settlement: a firm's monthly statement (JSON, CSV, PDF) and the district's totals."""

from __future__ import annotations

import csv
import io
import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, SiteDep, StateDep
from api.problems import problems
from api.public import viewer_figure
from api.settlement import MonthlySettlement, monthly_settlement
from api.statement_pdf import render_statement_pdf
from nzd.accounting.settlement import Settlement

router = APIRouter(prefix="/api/v1", tags=["settlement"])

MonthQuery = Annotated[str, Query(description="Local calendar month", examples=["2026-06"],
                                  pattern=r"^\d{4}-\d{2}$", max_length=7)]


class StatementRow(BaseModel):
    period_start_ms: int = Field(examples=[1_780_264_800_000])
    drawn_kwh: float = Field(description="energy drawn from the grid", examples=[9_140.2])
    fed_kwh: float = Field(description="energy fed into the grid", examples=[2_310.0])
    pv_kwh: float = Field(examples=[5_020.0])
    self_consumed_kwh: float = Field(examples=[2_710.0])
    shared_fed_kwh: float = Field(description="shared energy attributed to the plants the firm owns",
                                  examples=[1_640.0])
    drawn_in_shared_hours_kwh: float = Field(examples=[4_200.0])
    producer_eur: float = Field(description="the statute's producers' part", examples=[81.4])
    consumer_eur: float = Field(description="the statute's consumers' part", examples=[62.0])
    social_eur: float = Field(description="the part above the 55 % rule (non-business members only)",
                              examples=[0.0])
    incentive_eur: float | None = Field(description="what the firm receives, to the cent", examples=[143.4])
    energy_cost_eur: float = Field(description="import cost - export revenue", examples=[2_180.5])
    shared_assets_eur: float = Field(description="the firm's part of shared batteries' value on their host's "
                                     "bill (negative: received), the host's the opposite", examples=[-12.4])
    net_cost_eur: float = Field(description="energy cost + shared assets - incentive received",
                                examples=[2_024.7])
    co2_kg: float = Field(examples=[2_376.4])


class DistrictSettlementRow(BaseModel):
    """For the public, each figure passes the public rule (null when it would reveal a firm)."""

    period_start_ms: int = Field(examples=[1_780_264_800_000])
    shared_kwh: float | None = Field(description="per configuration and clock hour min(fed in, drawn)",
                                     examples=[8_200.0])
    premium_eur: float | None = Field(description="TIP earned", examples=[960.0])
    valorisation_eur: float | None = Field(description="ARERA valorisation", examples=[86.7])
    incentive_eur: float = Field(description="premium + valorisation, to the cent", examples=[1_046.7])
    above_rule_eur: float | None = Field(description="premium above the 55 % rule", examples=[40.1])
    fund_eur: float | None = Field(description="to the community fund", examples=[100.7])
    social_fund_eur: float | None = Field(description="to social purposes (no non-business member took it)",
                                          examples=[40.1])


class Savings(BaseModel):
    """The coordinator's plans against both baselines, on each day's forecast, settled by the same rules."""

    days: int = Field(description="days of the month with a stored baseline", examples=[30])
    coordinated_net_cost_eur: float = Field(examples=[2_037.1])
    fair_baseline_net_cost_eur: float = Field(description="each firm planned alone", examples=[2_060.3])
    do_nothing_net_cost_eur: float = Field(description="nothing coordinated, nothing planned",
                                           examples=[2_110.9])
    savings_vs_fair_baseline_eur: float = Field(examples=[23.2])
    savings_vs_do_nothing_eur: float = Field(examples=[73.8])


class Statement(BaseModel):
    site: str
    name: str
    month: str = Field(examples=["2026-06"])
    configuration: str = Field(description="the primary substation the firm is connected under")
    total: StatementRow
    days: list[StatementRow]
    configuration_total: DistrictSettlementRow
    district_total: DistrictSettlementRow
    savings: Savings | None = Field(None, description="the firm's; null without stored baselines")
    district_savings: Savings | None = None


def _f(v: Any) -> float:
    f = float(v)
    return round(f, 4) if math.isfinite(f) else 0.0


def _site_row(s: Settlement, i: int, k: int) -> StatementRow:
    cost, assets = round(float(s.energy_cost_eur[i, k]), 2), round(float(s.shared_assets_eur[i, k]), 2)
    return StatementRow(
        period_start_ms=int(s.period_start_ms[k]), drawn_kwh=_f(s.drawn_kwh[i, k]),
        fed_kwh=_f(s.fed_kwh[i, k]), pv_kwh=_f(s.pv_kwh[i, k]),
        self_consumed_kwh=_f(s.self_consumed_kwh[i, k]),
        shared_fed_kwh=_f(s.shared_fed_kwh[i, k]),
        drawn_in_shared_hours_kwh=_f(s.drawn_in_shared_hours_kwh[i, k]),
        producer_eur=_f(s.producer_eur[i, k]), consumer_eur=_f(s.consumer_eur[i, k]),
        social_eur=_f(s.social_eur[i, k]), incentive_eur=round(float(s.incentive_eur[i, k]), 2),
        energy_cost_eur=cost, shared_assets_eur=assets,
        net_cost_eur=round(cost + assets - round(float(s.incentive_eur[i, k]), 2), 2),
        co2_kg=_f(s.co2_kg[i, k]))


def _configuration_row(s: Settlement, configs: np.ndarray, k: int) -> DistrictSettlementRow:
    return DistrictSettlementRow(
        period_start_ms=int(s.period_start_ms[k]), shared_kwh=_f(s.shared_kwh[configs, k].sum()),
        premium_eur=_f(s.premium_eur[configs, k].sum()),
        valorisation_eur=_f(s.valorisation_eur[configs, k].sum()),
        incentive_eur=round(float(s.configuration_incentive_eur[configs, k].sum()), 2),
        above_rule_eur=_f(s.above_rule_eur[configs, k].sum()),
        fund_eur=round(float(s.fund_eur[configs, k].sum()), 2),
        social_fund_eur=round(float(s.social_fund_eur[configs, k].sum()), 2))


def _savings(m: MonthlySettlement, site: int | None) -> Savings | None:
    if m.baselines is None:
        return None

    def net(s: Settlement) -> float:
        if site is not None:
            return round(float(s.energy_cost_eur[site, 0]) - round(float(s.incentive_eur[site, 0]), 2), 2)
        return round(float(s.energy_cost_eur[:, 0].sum() - s.configuration_incentive_eur[:, 0].sum()), 2)

    c, f, d = (net(m.baselines.by_scenario[k]) for k in ("coordinated", "fair", "do_nothing"))
    return Savings(days=m.baselines.days, coordinated_net_cost_eur=c, fair_baseline_net_cost_eur=f,
                   do_nothing_net_cost_eur=d, savings_vs_fair_baseline_eur=round(f - c, 2),
                   savings_vs_do_nothing_eur=round(d - c, 2))


def statement(m: MonthlySettlement, site_id: str, name: str) -> Statement:
    total, days = m.month_total, m.days
    i = total.site(site_id)
    c = int(total.configuration_of_site[i])
    every = np.arange(len(total.configurations))
    return Statement(
        site=site_id, name=name, month=m.month, configuration=total.configurations[c],
        total=_site_row(total, i, 0), days=[_site_row(days, i, k) for k in range(days.period_start_ms.size)],
        configuration_total=_configuration_row(total, np.asarray([c]), 0),
        district_total=_configuration_row(total, every, 0), savings=_savings(m, i),
        district_savings=_savings(m, None))


@router.get("/sites/{site}/statement", summary="A firm's monthly statement: energy, incentive, cost",
            responses=problems(403, 404, 422, 503))
async def site_statement(site: SiteDep, state: StateDep, month: MonthQuery) -> Statement:
    m = await monthly_settlement(state.store, state.district, month=month, archive=state.hub.archive)
    return statement(m, site.id, site.name)


_CSV_FIELDS = list(StatementRow.model_fields)


@router.get("/sites/{site}/statement.csv", summary="A firm's monthly statement as CSV: one row per day",
            responses={**problems(403, 404, 422, 503), 200: {"content": {"text/csv": {}}}},
            response_class=Response)
async def site_statement_csv(site: SiteDep, state: StateDep, month: MonthQuery) -> Response:
    m = await monthly_settlement(state.store, state.district, month=month, archive=state.hub.archive)
    st = statement(m, site.id, site.name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", *_CSV_FIELDS])
    for row in st.days:
        writer.writerow([row.period_start_ms, *(getattr(row, f) for f in _CSV_FIELDS)])
    writer.writerow(["month", *(getattr(st.total, f) for f in _CSV_FIELDS)])
    return Response(out.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="statement-{site.id}-{month}.csv"'})


@router.get("/sites/{site}/statement.pdf", summary="A firm's monthly statement as PDF, with a chart",
            responses={**problems(403, 404, 422, 503), 200: {"content": {"application/pdf": {}}}},
            response_class=Response)
async def site_statement_pdf(site: SiteDep, state: StateDep, month: MonthQuery) -> Response:
    m = await monthly_settlement(state.store, state.district, month=month, archive=state.hub.archive)
    st = statement(m, site.id, site.name)
    pdf = render_statement_pdf(st.model_dump(), district=state.district.name or state.district.district)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="statement-{site.id}-{month}.pdf"'})


@router.get("/district/settlement", summary="The district's incentive for a month (public: the public rule)",
            responses=problems(403, 422, 503))
async def district_settlement(state: StateDep, principal: PrincipalDep,
                              month: MonthQuery) -> DistrictSettlementRow:
    m = await monthly_settlement(state.store, state.district, month=month, archive=state.hub.archive)
    t = m.month_total
    row = _configuration_row(t, np.arange(len(t.configurations)), 0)
    hidden = principal.hidden_indexes(list(t.site_ids))
    if hidden is None:
        return row
    # Every figure is built from the firms' energy fed in and drawn: shown only when neither side
    # would reveal a firm the caller may not see (one producer alone, its export would show).
    fed, drawn = [float(v) for v in t.fed_kwh[:, 0]], [float(v) for v in t.drawn_kwh[:, 0]]
    figures = [name for name in DistrictSettlementRow.model_fields if name != "period_start_ms"]
    return row.model_copy(update={name: viewer_figure(getattr(row, name), fed, drawn, hidden=hidden)
                                  for name in figures})
