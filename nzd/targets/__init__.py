"""The district's targets as data: a baseline, a target, the path between, a year's progress
(``_path``), and how a target comes into force: proposed by one party, agreed by the other
(``_agreement``). docs/reports.md."""

from nzd.targets._agreement import (
    PARTIES,
    AgreedTarget,
    Proposal,
    ProposalState,
    Step,
    StepConflict,
    StepKind,
    StepNotAllowed,
    TargetLedger,
    UnknownProposal,
    check_step,
    proposal_id,
)
from nzd.targets._path import (
    METRICS,
    ON_TRACK_TOLERANCE,
    Metric,
    MetricInfo,
    Progress,
    Status,
    Target,
    path_value,
    progress,
)

__all__ = ["METRICS", "ON_TRACK_TOLERANCE", "PARTIES", "AgreedTarget", "Metric", "MetricInfo", "Progress",
           "Proposal", "ProposalState", "Status", "Step", "StepConflict", "StepKind", "StepNotAllowed",
           "Target", "TargetLedger", "UnknownProposal", "check_step", "path_value", "progress", "proposal_id"]
