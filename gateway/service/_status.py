"""The gateway's status message: birth, updates, clean shutdown and the last will."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from nzd._version import __version__
from nzd.clock import district_clock
from nzd.config import GatewayConfig
from nzd.messages import DeviceState, GatewayState, GatewayStatus

__all__ = ["config_hash", "now_ms", "status_message"]


def now_ms() -> int:
    return district_clock().now_ms()


def config_hash(config: GatewayConfig) -> str:
    """A short fingerprint of the effective config: tells operators which config a gateway runs."""
    canonical = config.model_dump_json(exclude={"broker": {"password"}})
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def status_message(*, config: GatewayConfig, online: bool, devices: Mapping[str, DeviceState],
                   buffered: int, dropped: int, reason: str | None = None,
                   hash_: str | None = None) -> GatewayStatus:
    return GatewayStatus(
        gateway=config.gateway,
        state=GatewayState.ONLINE if online else GatewayState.OFFLINE,
        ts=now_ms(),
        software_version=__version__,
        config_hash=hash_ or config_hash(config),
        devices=dict(devices),
        buffered=buffered,
        dropped=dropped,
        reason=reason,
    )
