"""Proposing and agreeing the district's targets (docs/reports.md): the authority or the operator
proposes a target or a change; it is the target once the other party agrees; the other party may
reject it and the proposing party withdraw it, each with a reason. Every step is kept."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field, field_validator

from api.auth.principal import Principal
from api.deps import PrincipalDep, StateDep
from api.problems import ProblemError, problems
from api.state import ApiState
from api.target_ledger import ProposalOut, next_step_ms, proposal_out, read_ledger, write_step
from nzd.targets import (
    METRICS,
    Metric,
    ProposalState,
    Step,
    StepConflict,
    StepKind,
    StepNotAllowed,
    Target,
    UnknownProposal,
    proposal_id,
)

router = APIRouter(prefix="/api/v1", tags=["targets"])


def require_target_setter(principal: PrincipalDep) -> Principal:
    if not principal.may_set_targets:
        raise ProblemError(403, f"only the authority or the operator may propose or agree targets "
                                f"({principal.role.value} '{principal.name}' asked)")
    return principal


SetterDep = Annotated[Principal, Depends(require_target_setter)]
MetricPath = Annotated[Metric, Path(description="which target", examples=["co2_electricity_t"])]
ProposalPath = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,40}-[0-9]{1,16}$", description="the proposal's id",
                                   examples=["co2_electricity_t-1767225600000"])]

StatesQuery = Annotated[ProposalState | Literal["all"], Query(
    alias="state", description="the proposals in this state (`all`: every one)", examples=["pending"])]


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=500, examples=["the 2025 baseline misses the new plant"])

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("give a reason")
        return v.strip()


@router.get("/district/targets/proposals", summary="Proposals, newest first (public; pending by default)")
async def get_proposals(state: StateDep, metric: Metric | None = None,
                        which: StatesQuery = ProposalState.PENDING) -> list[ProposalOut]:
    ledger = await read_ledger(state)
    found = [p for p in ledger.proposals.values()
             if (metric is None or p.metric is metric) and (which == "all" or p.state == which)]
    return [proposal_out(p) for p in sorted(found, key=lambda p: p.proposed_at_ms, reverse=True)]


@router.put("/district/targets/{metric}", status_code=202,
            summary="Propose a target or a change (authority or operator); it is the target once the other "
                    "party agrees", responses=problems(403, 409, 422, 503))
async def put_target(metric: MetricPath, state: StateDep, principal: SetterDep,
                     target: Annotated[Target, Body()]) -> ProposalOut:
    info = METRICS[metric]
    if info.ratio and max(target.baseline_value, target.target_value) > 1:
        raise ProblemError(422, f"body: {metric.value} is a share between 0 and 1")
    async with state.targets_lock:
        ledger = await read_ledger(state)
        try:
            ledger.check_proposal(metric, by_role=principal.role.value)
        except StepNotAllowed as exc:
            raise ProblemError(403, str(exc)) from None
        except StepConflict as exc:
            raise ProblemError(409, str(exc)) from None
        at_ms = next_step_ms(ledger)
        step = Step(metric=metric, proposal=proposal_id(metric, at_ms), kind=StepKind.PROPOSED,
                    by=principal.name, by_role=principal.role.value, at_ms=at_ms, target=target)
        await write_step(state, step)
        ledger.apply(step)
    return proposal_out(ledger.proposals[step.proposal])


async def _decide(state: ApiState, principal: Principal, proposal: str, kind: StepKind, *,
                  reason: str = "") -> ProposalOut:
    async with state.targets_lock:
        ledger = await read_ledger(state)
        try:
            p = ledger.decision(proposal, kind, by=principal.name, by_role=principal.role.value)
        except UnknownProposal as exc:
            raise ProblemError(404, str(exc)) from None
        except StepNotAllowed as exc:
            raise ProblemError(403, str(exc)) from None
        except StepConflict as exc:
            raise ProblemError(409, str(exc)) from None
        step = Step(metric=p.metric, proposal=p.id, kind=kind, by=principal.name,
                    by_role=principal.role.value, at_ms=next_step_ms(ledger), reason=reason)
        await write_step(state, step)
        ledger.apply(step)
    return proposal_out(p)


_DECIDED = problems(403, 404, 409, 422, 503)


@router.post("/district/targets/proposals/{proposal}/agree", responses=_DECIDED,
             summary="Agree to the other party's proposal: from now it is the target")
async def agree(proposal: ProposalPath, state: StateDep, principal: SetterDep) -> ProposalOut:
    return await _decide(state, principal, proposal, StepKind.AGREED)


@router.post("/district/targets/proposals/{proposal}/reject", responses=_DECIDED,
             summary="Reject the other party's proposal, with a reason")
async def reject(proposal: ProposalPath, state: StateDep, principal: SetterDep,
                 body: Annotated[Reason, Body()]) -> ProposalOut:
    return await _decide(state, principal, proposal, StepKind.REJECTED, reason=body.reason)


@router.post("/district/targets/proposals/{proposal}/withdraw", responses=_DECIDED,
             summary="Withdraw your party's proposal, with a reason")
async def withdraw(proposal: ProposalPath, state: StateDep, principal: SetterDep,
                   body: Annotated[Reason, Body()]) -> ProposalOut:
    return await _decide(state, principal, proposal, StepKind.WITHDRAWN, reason=body.reason)
