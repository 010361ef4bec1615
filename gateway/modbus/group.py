"""All the devices of one gateway: shared links, one poller per device, writes for setpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

from gateway.modbus.poller import DevicePoller, OnResult, PollSettings
from gateway.modbus.transport import ModbusLink, SerialLink, TcpLink
from gateway.profiles import Profile, load_profile
from nzd.config import DeviceConfig, GatewayConfig, RtuTransport, SerialBusConfig, TcpTransport
from nzd.errors import ConfigError
from nzd.messages import DeviceState

__all__ = ["PollerGroup"]

log = logging.getLogger(__name__)


class PollerGroup:
    """Polls every configured device on its own grid; devices on one bus share its lock.

    ``on_result`` is awaited with each cycle's :class:`~gateway.modbus.PollResult`
    (ready for ``result.telemetry(seq=...)``). Use as ``async with group:`` or
    ``start()`` / ``stop()``; ``run()`` polls until cancelled.
    """

    def __init__(self, *, devices: Sequence[DeviceConfig], on_result: OnResult | None = None,
                 buses: Sequence[SerialBusConfig] = (), profiles: Mapping[str, Profile] | None = None,
                 settings: PollSettings | None = None) -> None:
        bus_by_name = {b.name: b for b in buses}
        self.links: dict[str, ModbusLink] = {}
        self.pollers: dict[str, DevicePoller] = {}
        errors: list[str] = []
        for i, dev in enumerate(devices):
            try:
                profile = None if dev.profile == "sunspec" else (
                    (profiles or {}).get(dev.profile) or load_profile(dev.profile))
                link = self._link(dev, bus_by_name)
                self.pollers[dev.name] = DevicePoller(config=dev, profile=profile, link=link,
                                                      on_result=on_result, settings=settings)
            except ConfigError as exc:
                errors.extend(f"devices[{i}] ({dev.name}): {e}" for e in exc.errors)
            except (KeyError, ValueError) as exc:
                errors.append(f"devices[{i}] ({dev.name}): {exc}")
        if errors:
            raise ConfigError(errors)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_config(cls, config: GatewayConfig, *, on_result: OnResult | None = None,
                    settings: PollSettings | None = None) -> PollerGroup:
        return cls(devices=config.devices, buses=config.buses, on_result=on_result, settings=settings)

    def _link(self, dev: DeviceConfig, buses: Mapping[str, SerialBusConfig]) -> ModbusLink:
        t = dev.transport
        if isinstance(t, TcpTransport):
            key = f"tcp:{t.host}:{t.port}"
            if key not in self.links:
                self.links[key] = TcpLink(host=t.host, port=t.port)
        else:
            assert isinstance(t, RtuTransport)
            if t.bus not in buses:
                raise KeyError(f"unknown serial bus {t.bus!r}")
            key = f"rtu:{t.bus}"
            if key not in self.links:
                self.links[key] = SerialLink(buses[t.bus])
        return self.links[key]

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(p.run(), name=f"poll-{name}") for name, p in self.pollers.items()]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []
        for link in self.links.values():
            await link.close()

    async def run(self) -> None:
        self.start()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()

    async def __aenter__(self) -> PollerGroup:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- queries and writes -------------------------------------------------------------

    def status(self) -> dict[str, DeviceState]:
        """Per device: online, last read time, error count (for the status topic)."""
        return {name: p.status.state() for name, p in self.pollers.items()}

    def poller(self, device: str) -> DevicePoller:
        try:
            return self.pollers[device]
        except KeyError:
            raise KeyError(f"unknown device {device!r}") from None

    async def write_point(self, device: str, quantity: str, value: float) -> float:
        """Write a setpoint and return the value read back (see :meth:`DevicePoller.write_point`)."""
        return await self.poller(device).write_point(quantity, value)
