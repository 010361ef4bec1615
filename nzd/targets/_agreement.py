"""Targets are agreed, not set: a change is a proposal until the other party agrees to it.

The two parties are the authority (the municipality or region) and the operator (for the firms of
the district). Either may propose a new target or a change; the proposal becomes the district's
target only when someone of the *other* party agrees to it, never its proposer. The other party
may reject it and the proposing party may withdraw it, each with a reason. Every step is kept;
the ledger folds them, oldest first, into each proposal's state and each metric's agreed target.

One proposal per metric is open at a time, so an agreement always answers the proposal its
author saw. The first decision on a proposal is the one that counts: a second one (two API
processes answering at once) is kept in the history but changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from nzd.targets._path import Metric, Target

__all__ = ["PARTIES", "AgreedTarget", "Proposal", "ProposalState", "Step", "StepConflict", "StepKind",
           "StepNotAllowed", "TargetLedger", "UnknownProposal", "check_step", "proposal_id"]

PARTIES = ("authority", "operator")
"""The roles that propose and agree (api.auth.principal.Role values)."""


class StepKind(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    REJECTED = "rejected"
    """By the other party, with a reason."""
    WITHDRAWN = "withdrawn"
    """By the proposing party, with a reason."""
    SET = "set"
    """A target set directly, before targets needed both parties (older stores): in force."""


class ProposalState(StrEnum):
    PENDING = "pending"
    AGREED = "agreed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SET = "set"


@dataclass(frozen=True, slots=True)
class Step:
    """One step as stored (one ``target`` event)."""

    metric: Metric
    proposal: str
    kind: StepKind
    by: str
    by_role: str
    at_ms: int
    target: Target | None = None
    """The proposed figures (PROPOSED and SET only)."""
    reason: str = ""


@dataclass(slots=True)
class Proposal:
    id: str
    metric: Metric
    target: Target
    proposed_by: str
    proposed_by_role: str
    proposed_at_ms: int
    state: ProposalState = ProposalState.PENDING
    decided_by: str | None = None
    decided_by_role: str | None = None
    decided_at_ms: int | None = None
    reason: str = ""

    @property
    def awaiting_role(self) -> str | None:
        """The party whose agreement a pending proposal waits for."""
        if self.state is not ProposalState.PENDING:
            return None
        return next((p for p in PARTIES if p != self.proposed_by_role), None)


@dataclass(frozen=True, slots=True)
class AgreedTarget:
    """A metric's target in force: the proposal agreed last."""

    proposal: Proposal

    @property
    def target(self) -> Target:
        return self.proposal.target


class UnknownProposal(LookupError):
    pass


class StepNotAllowed(PermissionError):
    """This person or party may not take the step."""


class StepConflict(ValueError):
    """The step does not fit the proposal's state (closed already, or another one is open)."""


def proposal_id(metric: Metric, at_ms: int) -> str:
    return f"{metric.value}-{at_ms}"


@dataclass(slots=True)
class TargetLedger:
    steps: list[tuple[Step, bool]] = field(default_factory=list)
    """Every step, oldest first, and whether it counted."""
    proposals: dict[str, Proposal] = field(default_factory=dict)

    @classmethod
    def fold(cls, steps: Iterable[Step]) -> TargetLedger:
        ledger = cls()
        for step in sorted(steps, key=lambda s: s.at_ms):
            ledger.apply(step)
        return ledger

    def apply(self, step: Step) -> bool:
        """Take ``step``; False when it changes nothing (kept in the history all the same)."""
        counted = self._apply(step)
        self.steps.append((step, counted))
        return counted

    def _apply(self, step: Step) -> bool:
        if step.kind in (StepKind.PROPOSED, StepKind.SET):
            if step.target is None or step.proposal in self.proposals:
                return False
            if step.kind is StepKind.PROPOSED and self.pending(step.metric) is not None:
                return False
            p = Proposal(id=step.proposal, metric=step.metric, target=step.target, proposed_by=step.by,
                         proposed_by_role=step.by_role, proposed_at_ms=step.at_ms)
            if step.kind is StepKind.SET:
                p.state, p.decided_at_ms = ProposalState.SET, step.at_ms
            self.proposals[p.id] = p
            return True
        decided = self.proposals.get(step.proposal)
        if decided is None or decided.state is not ProposalState.PENDING:
            return False  # the first decision counts
        try:
            check_step(decided, step.kind, by=step.by, by_role=step.by_role)
        except (StepNotAllowed, StepConflict):
            return False
        self._decide(decided, step)
        return True

    @staticmethod
    def _decide(p: Proposal, step: Step) -> None:
        p.state = ProposalState(step.kind.value)
        p.decided_by, p.decided_by_role = step.by, step.by_role
        p.decided_at_ms, p.reason = step.at_ms, step.reason

    def pending(self, metric: Metric) -> Proposal | None:
        return next((p for p in self.proposals.values()
                     if p.metric is metric and p.state is ProposalState.PENDING), None)

    def agreed(self) -> dict[Metric, AgreedTarget]:
        """Each metric's target in force (metrics in their declared order)."""
        newest: dict[Metric, Proposal] = {}
        for p in self.proposals.values():
            if p.state in (ProposalState.AGREED, ProposalState.SET) and p.decided_at_ms is not None:
                seen = newest.get(p.metric)
                if seen is None or (seen.decided_at_ms or 0) < p.decided_at_ms:
                    newest[p.metric] = p
        return {m: AgreedTarget(newest[m]) for m in Metric if m in newest}

    def last_at_ms(self) -> int:
        return max((s.at_ms for s, _ in self.steps), default=0)

    def check_proposal(self, metric: Metric, *, by_role: str) -> None:
        if by_role not in PARTIES:
            raise StepNotAllowed(f"only the authority or the operator may propose targets ({by_role} asked)")
        open_one = self.pending(metric)
        if open_one is not None:
            raise StepConflict(
                f"proposal {open_one.id} by {open_one.proposed_by} ({open_one.proposed_by_role}) is still "
                f"open for {metric.value}: the {open_one.awaiting_role} agrees to it or rejects it, or its "
                "party withdraws it, before another one")

    def decision(self, proposal: str, kind: StepKind, *, by: str, by_role: str) -> Proposal:
        """The proposal ``kind`` would decide, once checked; raises why not."""
        p = self.proposals.get(proposal)
        if p is None:
            raise UnknownProposal(f"no proposal {proposal!r}")
        if p.state is not ProposalState.PENDING:
            when = "" if p.decided_by is None else f" by {p.decided_by} ({p.decided_by_role})"
            raise StepConflict(f"proposal {p.id} is {p.state.value}{when} already")
        check_step(p, kind, by=by, by_role=by_role)
        return p


def check_step(p: Proposal, kind: StepKind, *, by: str, by_role: str) -> None:
    """Who may take ``kind`` on the pending proposal ``p``."""
    if kind in (StepKind.AGREED, StepKind.REJECTED):
        if by == p.proposed_by:
            raise StepNotAllowed(f"{by} proposed {p.id}: the other party agrees to it or rejects it")
        if by_role not in PARTIES or by_role == p.proposed_by_role:
            raise StepNotAllowed(f"proposal {p.id} came from the {p.proposed_by_role}: only the "
                                 f"{p.awaiting_role} may agree to it or reject it ({by_role} {by} asked)")
    elif kind is StepKind.WITHDRAWN:
        if by_role != p.proposed_by_role:
            raise StepNotAllowed(f"proposal {p.id} came from the {p.proposed_by_role}: only that party may "
                                 f"withdraw it; the {by_role} rejects it instead")
    else:
        raise StepConflict(f"{kind.value} is not a decision on a proposal")
