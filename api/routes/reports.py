"""The district report (docs/reports.md): JSON, PDF and HTML, monthly or yearly, for anyone; every
figure through the public rule for the public and the authority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import PrincipalDep, StateDep
from api.district_report import DistrictReport, district_report
from api.problems import problems
from api.report_html import render_report_html
from api.report_pdf import render_report_pdf

router = APIRouter(prefix="/api/v1", tags=["reports"])

ReportPeriod = Annotated[str, Query(description="a year (rows per month) or a month (rows per day)",
                                    examples=["2026", "2026-03"], max_length=7)]


@router.get("/district/report", summary="The district's yearly or monthly report (public)",
            responses=problems(422, 503))
async def get_report(state: StateDep, principal: PrincipalDep, period: ReportPeriod) -> DistrictReport:
    return await district_report(state, principal, period)


@router.get("/district/report.pdf", summary="The district's report as PDF (public)",
            responses={**problems(422, 503), 200: {"content": {"application/pdf": {}}}},
            response_class=Response)
async def get_report_pdf(state: StateDep, principal: PrincipalDep, period: ReportPeriod) -> Response:
    pdf = render_report_pdf(await district_report(state, principal, period))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="district-report-{period}.pdf"'})


@router.get("/district/report.html", summary="The district's report as a web page (public)",
            responses=problems(422, 503), response_class=HTMLResponse)
async def get_report_html(state: StateDep, principal: PrincipalDep, period: ReportPeriod) -> HTMLResponse:
    return HTMLResponse(render_report_html(await district_report(state, principal, period)))
