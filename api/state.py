"""What the lifespan opens and the routes use; one instance per app, on ``app.state.nzd``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from api.auth.throttle import LoginThrottle
from api.auth.users import UserDirectory
from api.latest_cache import LatestTable
from api.live import LiveHub
from api.settings import ApiSettings
from nzd.config import DistrictConfig
from nzd.setpoint_ids import SetpointIdAllocator, SetpointSender
from nzd.store.base import TelemetryStore

__all__ = ["ApiState"]


@dataclass
class ApiState:
    settings: ApiSettings
    district: DistrictConfig
    store: TelemetryStore
    users: UserDirectory
    hub: LiveHub
    latest: LatestTable
    """Each site's newest reading per device (the live subscription, filled from the store)."""
    jwt_secret: str
    throttle: LoginThrottle
    setpoint_ids: SetpointIdAllocator = field(
        default_factory=lambda: SetpointIdAllocator(sender=SetpointSender.API))
    """Manual setpoints' ids: unique, never the coordinator's (nzd/setpoint_ids.py)."""
    targets_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serialises the targets' proposal steps: each is checked against the steps before it."""
