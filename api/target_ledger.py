"""The targets' steps in the store (one ``target`` event per step, keyed by the metric) and how the
API shows them: the agreed targets, the proposals, the history (docs/reports.md)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from api.state import ApiState
from nzd.clock import district_clock
from nzd.store.base import Event, EventKind
from nzd.targets import (
    METRICS,
    AgreedTarget,
    Metric,
    Proposal,
    ProposalState,
    Step,
    StepKind,
    Target,
    TargetLedger,
)

__all__ = ["ProposalOut", "StepOut", "TargetOut", "next_step_ms", "proposal_out", "read_ledger", "step_out",
           "target_out", "write_step"]

log = logging.getLogger("api")

_STEPS_READ = 20_000
"""Every step of every metric is read to fold the ledger; years of monthly changes stay far below."""


class TargetOut(Target):
    """A target in force: proposed by one party, agreed by the other."""

    metric: Metric = Field(examples=["co2_electricity_t"])
    label: str = Field(examples=["CO2 from electricity"])
    unit: str = Field(examples=["t CO2"])
    lower_is_better: bool = Field(examples=[True])
    proposal: str = Field(examples=["co2_electricity_t-1767225600000"])
    proposed_by: str = Field(examples=["comune-prato"])
    proposed_by_role: str = Field(examples=["authority"])
    proposed_at_ms: int = Field(examples=[1_767_225_600_000])
    agreed_by: str | None = Field(description="null: set directly before targets needed both parties",
                                  examples=["operator"])
    agreed_by_role: str | None = Field(examples=["operator"])
    agreed_at_ms: int = Field(description="since when it is the target", examples=[1_767_312_000_000])


class ProposalOut(BaseModel):
    id: str = Field(examples=["co2_electricity_t-1767225600000"])
    metric: Metric = Field(examples=["co2_electricity_t"])
    label: str = Field(examples=["CO2 from electricity"])
    unit: str = Field(examples=["t CO2"])
    target: Target
    state: ProposalState = Field(examples=["pending"])
    proposed_by: str = Field(examples=["comune-prato"])
    proposed_by_role: str = Field(examples=["authority"])
    proposed_at_ms: int = Field(examples=[1_767_225_600_000])
    awaiting_role: str | None = Field(description="the party that may agree to it or reject it (pending)",
                                      examples=["operator"])
    decided_by: str | None = Field(examples=[None])
    decided_by_role: str | None = Field(examples=[None])
    decided_at_ms: int | None = Field(examples=[None])
    reason: str = Field(description="why it was rejected or withdrawn", examples=[""])


class StepOut(BaseModel):
    metric: Metric = Field(examples=["co2_electricity_t"])
    proposal: str = Field(examples=["co2_electricity_t-1767225600000"])
    step: StepKind = Field(examples=["proposed"])
    by: str = Field(examples=["comune-prato"])
    by_role: str = Field(examples=["authority"])
    at_ms: int = Field(examples=[1_767_225_600_000])
    target: Target | None = Field(None, description="the figures proposed (proposed and set steps)")
    reason: str = Field("", examples=[""])
    counted: bool = Field(True, description="false for a step that came after the proposal was decided "
                                            "(two answers at once): kept, but it changed nothing")


def _step(e: Event) -> Step | None:
    try:
        return _parse(e)
    except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        # Only the API writes these; one that cannot be read is skipped, never a 500 on every read.
        log.warning("target event at %d (%s) cannot be read, skipped: %s", e.ts_ms, e.key, exc)
        return None


def _parse(e: Event) -> Step:
    metric = Metric(e.key)
    d: dict[str, Any] = e.document
    if "step" not in d:  # stored before targets needed both parties: in force as set
        return Step(metric=metric, proposal=f"{metric.value}-{e.ts_ms}", kind=StepKind.SET, by=d["set_by"],
                    by_role=d["set_by_role"], at_ms=e.ts_ms, target=Target.model_validate(d["target"]))
    target = d.get("target")
    return Step(metric=metric, proposal=d["proposal"], kind=StepKind(d["step"]), by=d["by"],
                by_role=d["by_role"], at_ms=e.ts_ms,
                target=None if target is None else Target.model_validate(target), reason=d.get("reason", ""))


async def read_ledger(state: ApiState) -> TargetLedger:
    events = await state.store.events(EventKind.TARGET, district=state.district.district, site="*",
                                      limit=_STEPS_READ)
    return TargetLedger.fold(s for s in map(_step, events) if s is not None)


def next_step_ms(ledger: TargetLedger) -> int:
    """Now, or just after the newest step: each step gets its own instant, so none replaces another
    in the store and their order is the order they were taken in."""
    return max(district_clock().now_ms(), ledger.last_at_ms() + 1)


async def write_step(state: ApiState, step: Step) -> None:
    doc: dict[str, Any] = {"step": step.kind.value, "proposal": step.proposal, "by": step.by,
                           "by_role": step.by_role}
    if step.target is not None:
        doc["target"] = step.target.model_dump()
    if step.reason:
        doc["reason"] = step.reason
    await state.store.write_events([Event(EventKind.TARGET, state.district.district, "*", step.at_ms,
                                          step.metric.value, doc)])


def _info(metric: Metric) -> dict[str, Any]:
    info = METRICS[metric]
    return {"metric": metric, "label": info.label, "unit": info.unit}


def target_out(agreed: AgreedTarget) -> TargetOut:
    p = agreed.proposal
    assert p.decided_at_ms is not None
    return TargetOut(**_info(p.metric), lower_is_better=METRICS[p.metric].lower_is_better, proposal=p.id,
                     proposed_by=p.proposed_by, proposed_by_role=p.proposed_by_role,
                     proposed_at_ms=p.proposed_at_ms, agreed_by=p.decided_by,
                     agreed_by_role=p.decided_by_role, agreed_at_ms=p.decided_at_ms, **p.target.model_dump())


def proposal_out(p: Proposal) -> ProposalOut:
    return ProposalOut(id=p.id, **_info(p.metric), target=p.target, state=p.state, proposed_by=p.proposed_by,
                       proposed_by_role=p.proposed_by_role, proposed_at_ms=p.proposed_at_ms,
                       awaiting_role=p.awaiting_role, decided_by=p.decided_by,
                       decided_by_role=p.decided_by_role, decided_at_ms=p.decided_at_ms, reason=p.reason)


def step_out(step: Step, *, counted: bool) -> StepOut:
    return StepOut(metric=step.metric, proposal=step.proposal, step=step.kind, by=step.by,
                   by_role=step.by_role, at_ms=step.at_ms, target=step.target, reason=step.reason,
                   counted=counted)
