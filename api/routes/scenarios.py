"""Scenarios: the operator submits one (a job in the store), a worker runs it, its results are read here.

The operator sees a whole result; everyone else the district figures through the public rule on
the firms they may not see, and the rows of the firms they may see (api/scenario_view.py).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth.principal import Principal, Role
from api.deps import OperatorDep, PrincipalDep, StateDep, guard_public_total
from api.problems import ProblemError, problems
from api.scenario_pdf import render_scenario_pdf
from api.scenario_view import scenario_view
from api.state import ApiState
from coordinator.scenarios._jobs import JobError, latest_jobs, submit_job, validate_submission

router = APIRouter(prefix="/api/v1", tags=["scenarios"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", examples=["3f2a9c81d0e4"])]


class Submitted(BaseModel):
    id: str = Field(examples=["3f2a9c81d0e4"])
    state: str = Field(examples=["queued"])


class JobSummary(BaseModel):
    id: str
    name: str | None = None
    state: str = Field(description="queued, running, done or failed", examples=["done"])
    submitted_ms: int | None = None
    updated_ms: int
    error: str | None = Field(default=None, description="Why it failed (operator)")


class JobDetail(JobSummary):
    scenario: dict[str, Any] | None = Field(default=None, description="The scenario as submitted (operator)")
    result: dict[str, Any] | None = Field(default=None, description="What the viewer may see of the result")


def _summary(job: dict[str, Any], *, operator: bool) -> dict[str, Any]:
    return {
        "id": job["id"],
        "name": (job.get("scenario") or {}).get("name"),
        "state": job.get("state", "?"),
        "submitted_ms": job.get("submitted_ms"),
        "updated_ms": job["updated_ms"],
        # Why a job failed is free text that may name a firm and its figures: the operator's only.
        "error": job.get("error") if operator else None,
    }


@router.post(
    "/scenarios",
    status_code=202,
    summary="Submit a scenario to be sized (operator)",
    responses=problems(403, 422, 503),
)
async def post_scenario(
    state: StateDep,
    principal: OperatorDep,
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {
                    "name": "roofs-2026",
                    "step_minutes": 60,
                    "surfaces": [{"id": "rossi-roof", "site": "tintoria-rossi", "area_m2": 3000}],
                }
            ]
        ),
    ],
) -> Submitted:
    try:
        spec = validate_submission(body, district_file=state.settings.district_file)
    except JobError as exc:
        raise ProblemError(422, str(exc)) from None
    ids = {s.id for s in state.district.sites}
    for item_id, site in [(i.id, i.site) for i in spec.surfaces] + [(b.id, b.site) for b in spec.batteries]:
        if site not in ids:
            raise ProblemError(422, f"{item_id}: no site {site!r} in the district")
    job_id = await submit_job(state.store, district=state.district.district, spec=spec, by=principal.name)
    return Submitted(id=job_id, state="queued")


@router.get("/scenarios", summary="Scenarios and their states, newest first", responses=problems(503))
async def list_scenarios(state: StateDep, principal: PrincipalDep) -> list[JobSummary]:
    jobs = await latest_jobs(state.store, district=state.district.district)
    rows = sorted(jobs.values(), key=lambda j: j.get("submitted_ms") or 0, reverse=True)
    operator = principal.role is Role.OPERATOR
    return [JobSummary(**_summary(j, operator=operator)) for j in rows]


async def _job_and_view(
    state: ApiState, principal: Principal, job_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The job and what this principal may see of its result (api/scenario_view.py)."""
    jobs = await latest_jobs(state.store, district=state.district.district)
    job = jobs.get(job_id)
    if job is None:
        raise ProblemError(404, f"no scenario {job_id}")
    result = job.get("result")
    if result is not None:
        sites = [str(s) for s in result.get("sites") or []]
        guard_public_total(principal, len(sites), "figures in this scenario")
        result = scenario_view(result, operator=principal.role is Role.OPERATOR,
                               visible=frozenset(principal.visible_sites(sites)))
    return job, result


@router.get(
    "/scenarios/{job_id}",
    summary="A scenario's state and what the viewer may see of its result",
    responses=problems(403, 404, 503),
)
async def get_scenario(state: StateDep, principal: PrincipalDep, job_id: JobId) -> JobDetail:
    job, result = await _job_and_view(state, principal, job_id)
    operator = principal.role is Role.OPERATOR
    return JobDetail(
        **_summary(job, operator=operator), scenario=job.get("scenario") if operator else None, result=result
    )


@router.get(
    "/scenarios/{job_id}/report.pdf",
    summary="A scenario's result as PDF, as the viewer may see it",
    responses={**problems(403, 404, 409, 503), 200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
async def get_scenario_pdf(state: StateDep, principal: PrincipalDep, job_id: JobId) -> Response:
    job, result = await _job_and_view(state, principal, job_id)
    if result is None:
        raise ProblemError(409, f"scenario {job_id} is {job.get('state', '?')}: it has no result yet")
    name = str((job.get("scenario") or {}).get("name") or result.get("name") or job_id)
    pdf = await asyncio.to_thread(render_scenario_pdf, result, name=name)  # reportlab is CPU work
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="scenario-{job_id}.pdf"'})
