"""The coordinator service (``nzd coordinator run``).

Live state from MQTT, a plan per interval, setpoints with a limited validity,
acknowledgements tracked, plans/setpoints/acks stored, ``/healthz`` and ``/metrics``.
"""

from coordinator.service._events import EventWriter
from coordinator.service._http import HealthServer
from coordinator.service._metrics import CoordinatorMetrics
from coordinator.service._mqtt import MqttLink, NotConnected
from coordinator.service._planning import Planner, PlanOutcome, PlanRequest, safe_mode_outcome
from coordinator.service._run import run_coordinator
from coordinator.service._service import CoordinatorService, PlanRecord

__all__ = [
    "CoordinatorMetrics",
    "CoordinatorService",
    "EventWriter",
    "HealthServer",
    "MqttLink",
    "NotConnected",
    "PlanOutcome",
    "PlanRecord",
    "PlanRequest",
    "Planner",
    "run_coordinator",
    "safe_mode_outcome",
]
