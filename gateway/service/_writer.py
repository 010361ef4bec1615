"""Setpoint writes through the poller group, so that they share its links and bus locks."""

from __future__ import annotations

from gateway.control import WriteResult
from gateway.modbus import PollerGroup

__all__ = ["GroupPointWriter"]


class GroupPointWriter:
    """:class:`gateway.control.PointWriter` over :meth:`PollerGroup.write_point`."""

    def __init__(self, group: PollerGroup) -> None:
        self.group = group

    async def write_point(self, *, device: str, quantity: str, value: float) -> WriteResult:
        point = self.group.poller(device).point(quantity)
        # With a SunSpec scale-factor register the step is unknown here; exact match is then required.
        resolution = abs(point.scale) if point.scale_factor is None else 0.0
        read_back = await self.group.write_point(device, quantity, value)
        return WriteResult(read_back=read_back, resolution=resolution)
