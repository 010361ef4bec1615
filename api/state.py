"""What the lifespan opens and the routes use; one instance per app, on ``app.state.nzd``."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.users import UserDirectory
from api.live import LiveHub
from api.settings import ApiSettings
from nzd.config import DistrictConfig
from nzd.store.base import TelemetryStore

__all__ = ["ApiState"]


@dataclass
class ApiState:
    settings: ApiSettings
    district: DistrictConfig
    store: TelemetryStore
    users: UserDirectory
    hub: LiveHub
    jwt_secret: str
