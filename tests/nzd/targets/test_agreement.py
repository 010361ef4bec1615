"""A target comes into force when the other party agrees to it: the ledger's rules, step by step."""

from __future__ import annotations

import pytest

from nzd.targets import (
    Metric,
    ProposalState,
    Step,
    StepConflict,
    StepKind,
    StepNotAllowed,
    Target,
    TargetLedger,
    UnknownProposal,
    proposal_id,
)

CO2 = Metric.CO2_ELECTRICITY
MINUS_40 = Target(baseline_year=2025, baseline_value=400.0, target_year=2030, target_value=240.0)
MINUS_50 = Target(baseline_year=2025, baseline_value=400.0, target_year=2030, target_value=200.0)


def _propose(ledger: TargetLedger, target: Target, *, by: str, role: str, at_ms: int,
             metric: Metric = CO2) -> str:
    ledger.check_proposal(metric, by_role=role)
    pid = proposal_id(metric, at_ms)
    assert ledger.apply(Step(metric=metric, proposal=pid, kind=StepKind.PROPOSED, by=by, by_role=role,
                             at_ms=at_ms, target=target))
    return pid


def _decide(ledger: TargetLedger, pid: str, kind: StepKind, *, by: str, role: str, at_ms: int,
            reason: str = "") -> None:
    p = ledger.decision(pid, kind, by=by, by_role=role)
    assert ledger.apply(Step(metric=p.metric, proposal=pid, kind=kind, by=by, by_role=role, at_ms=at_ms,
                             reason=reason))


def test_a_proposal_is_the_target_only_once_the_other_party_agrees() -> None:
    ledger = TargetLedger()
    pid = _propose(ledger, MINUS_40, by="municipio", role="authority", at_ms=1000)
    assert ledger.agreed() == {}
    pending = ledger.pending(CO2)
    assert pending is not None and pending.awaiting_role == "operator"
    # Neither the proposer nor its party may agree; anyone else than the two parties neither.
    with pytest.raises(StepNotAllowed, match="municipio proposed"):
        ledger.decision(pid, StepKind.AGREED, by="municipio", by_role="authority")
    with pytest.raises(StepNotAllowed, match="only the operator may agree"):
        ledger.decision(pid, StepKind.AGREED, by="regione", by_role="authority")
    with pytest.raises(StepNotAllowed):
        ledger.decision(pid, StepKind.AGREED, by="rossi", by_role="site_manager")
    _decide(ledger, pid, StepKind.AGREED, by="operator", role="operator", at_ms=2000)
    agreed = ledger.agreed()[CO2].proposal
    assert (agreed.target, agreed.proposed_by, agreed.decided_by, agreed.decided_at_ms) == (
        MINUS_40, "municipio", "operator", 2000)
    assert agreed.state is ProposalState.AGREED and agreed.awaiting_role is None


def test_a_rejected_or_withdrawn_change_leaves_the_agreed_target_in_force() -> None:
    ledger = TargetLedger()
    first = _propose(ledger, MINUS_40, by="operator", role="operator", at_ms=1)
    _decide(ledger, first, StepKind.AGREED, by="municipio", role="authority", at_ms=2)
    change = _propose(ledger, MINUS_50, by="operator", role="operator", at_ms=3)
    # One open proposal per metric: the authority answers it before proposing its own.
    with pytest.raises(StepConflict, match="still open"):
        ledger.check_proposal(CO2, by_role="authority")
    ledger.check_proposal(Metric.WATER_INTAKE, by_role="authority")  # another metric is free
    with pytest.raises(StepNotAllowed, match="only that party may withdraw"):
        ledger.decision(change, StepKind.WITHDRAWN, by="municipio", by_role="authority")
    _decide(ledger, change, StepKind.REJECTED, by="municipio", role="authority", at_ms=4,
            reason="the baseline misses the new plant")
    assert ledger.agreed()[CO2].target == MINUS_40
    rejected = ledger.proposals[change]
    assert (rejected.state, rejected.reason) == (ProposalState.REJECTED, "the baseline misses the new plant")
    with pytest.raises(StepConflict, match="rejected by municipio"):
        ledger.decision(change, StepKind.AGREED, by="municipio", by_role="authority")
    again = _propose(ledger, MINUS_50, by="operator", role="operator", at_ms=5)
    _decide(ledger, again, StepKind.WITHDRAWN, by="operator", role="operator", at_ms=6, reason="typo")
    assert ledger.agreed()[CO2].target == MINUS_40
    assert ledger.pending(CO2) is None
    with pytest.raises(UnknownProposal):
        ledger.decision("co2_electricity_t-99", StepKind.AGREED, by="municipio", by_role="authority")
    # A later agreement replaces the target; the history keeps all seven steps, oldest first.
    last = _propose(ledger, MINUS_50, by="municipio", role="authority", at_ms=7)
    _decide(ledger, last, StepKind.AGREED, by="operator", role="operator", at_ms=8)
    assert ledger.agreed()[CO2].target == MINUS_50
    assert [s.kind.value for s, _ in ledger.steps] == ["proposed", "agreed", "proposed", "rejected",
                                                       "proposed", "withdrawn", "proposed", "agreed"]


def test_folding_the_stored_steps_counts_the_first_decision_only() -> None:
    # Two API processes answered at once: the rejection came second, it is kept but changes nothing.
    steps = [
        Step(metric=CO2, proposal="p", kind=StepKind.REJECTED, by="municipio", by_role="authority", at_ms=30,
             reason="late"),
        Step(metric=CO2, proposal="p", kind=StepKind.PROPOSED, by="operator", by_role="operator", at_ms=10,
             target=MINUS_40),
        Step(metric=CO2, proposal="p", kind=StepKind.AGREED, by="municipio", by_role="authority", at_ms=20),
        # A step nobody was allowed to take (the proposer agreeing) counts for nothing either.
        Step(metric=CO2, proposal="q", kind=StepKind.PROPOSED, by="operator", by_role="operator", at_ms=40,
             target=MINUS_50),
        Step(metric=CO2, proposal="q", kind=StepKind.AGREED, by="operator", by_role="operator", at_ms=50),
    ]
    ledger = TargetLedger.fold(steps)
    assert [(s.at_ms, counted) for s, counted in ledger.steps] == [
        (10, True), (20, True), (30, False), (40, True), (50, False)]
    assert ledger.agreed()[CO2].target == MINUS_40
    assert ledger.proposals["q"].state is ProposalState.PENDING


def test_a_target_set_before_agreements_existed_stays_in_force_until_an_agreed_change() -> None:
    ledger = TargetLedger.fold([Step(metric=CO2, proposal="co2_electricity_t-5", kind=StepKind.SET,
                                     by="municipio", by_role="authority", at_ms=5, target=MINUS_40)])
    legacy = ledger.agreed()[CO2].proposal
    assert (legacy.state, legacy.decided_by, legacy.decided_at_ms) == (ProposalState.SET, None, 5)
    change = _propose(ledger, MINUS_50, by="municipio", role="authority", at_ms=6)
    assert ledger.agreed()[CO2].target == MINUS_40
    _decide(ledger, change, StepKind.AGREED, by="operator", role="operator", at_ms=7)
    assert ledger.agreed()[CO2].target == MINUS_50
