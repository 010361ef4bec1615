"""Setpoint execution: local-limit checks, write with read-back, acks, watchdog fallback."""

from gateway.control._controller import PointWriter, SetpointController, WriteResult
from gateway.control._state import AssetState, SetpointStateStore
from gateway.control._validate import Decision, Verdict, judge, ramp_verdict

__all__ = [
    "AssetState",
    "Decision",
    "PointWriter",
    "SetpointController",
    "SetpointStateStore",
    "Verdict",
    "WriteResult",
    "judge",
    "ramp_verdict",
]
