"""The simulator: pymodbus servers (TCP and RTU) serving simulated devices, and the clock that drives them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from pymodbus import FramerType
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from gateway.simulator.config import Faults, SimulatorConfig
from gateway.simulator.device import SimulatedDevice
from gateway.simulator.model import Site
from gateway.simulator.pty import PtyPair, open_pty_pair
from nzd.clock import Clock, district_clock
from nzd.config import RtuTransport, SerialBusConfig, TcpTransport

__all__ = ["DistrictSimClock", "SimClock", "Simulator"]

log = logging.getLogger(__name__)


@dataclass
class SimClock:
    """Simulated epoch seconds: ``start_s`` plus real time elapsed times ``speed`` (0 freezes)."""

    start_s: float
    speed: float = 1.0
    _t0: float = 0.0

    def __post_init__(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> float:
        return self.start_s + (time.monotonic() - self._t0) * self.speed

    def restart(self) -> None:
        """Simulated time starts at ``start_s`` from now (after slow start-up work)."""
        self._t0 = time.monotonic()


class DistrictSimClock(SimClock):
    """The district clock of the environment (``NZD_CLOCK_*``): the simulator then lives in the same
    time as every other process of the district, whatever its own start-up took."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock.now_s(), clock.speed)
        self._clock = clock

    def now(self) -> float:
        return self._clock.now_s()

    def restart(self) -> None:
        pass


class Simulator:
    """Serves every device of a :class:`SimulatorConfig`; ``async with Simulator(cfg) as sim:``."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        site = Site(lat=config.simulator.lat, lon=config.simulator.lon, tz=config.simulator.tz)
        self.devices: dict[str, SimulatedDevice] = {
            d.name: SimulatedDevice(d, site=site, seed=config.simulator.seed)
            for d in config.devices
        }
        shared = district_clock()
        if shared.is_simulated:
            self.clock: SimClock = DistrictSimClock(shared)
        else:
            start = config.simulator.start.timestamp() if config.simulator.start is not None else time.time()
            self.clock = SimClock(start, config.simulator.speed)
        self.ptys: dict[str, PtyPair] = {}
        """Serial buses with ``port: auto``: the pseudo-terminal pair made for each."""
        self._servers: list[ModbusTcpServer | ModbusSerialServer] = []
        self._tick: asyncio.Task[None] | None = None
        self.ticks = 0

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        tcp: dict[tuple[str, int], list[SimulatedDevice]] = defaultdict(list)
        rtu: dict[str, list[SimulatedDevice]] = defaultdict(list)
        for dev in self.devices.values():
            t = dev.cfg.transport
            if isinstance(t, TcpTransport):
                tcp[(t.host, t.port)].append(dev)
            else:
                assert isinstance(t, RtuTransport)
                rtu[t.bus].append(dev)
        self.refresh()
        buses = {b.name: b for b in self.config.buses}
        try:
            for (host, port), devs in tcp.items():
                server = ModbusTcpServer([*(s for d in devs for s in d.sim_devices()), _nobody()],
                                         address=(host, port),
                                         ignore_missing_devices=True)
                await self._serve(server, devs, f"tcp {host}:{port}")
            for bus_name, devs in rtu.items():
                await self._serve(self._serial_server(buses[bus_name], devs), devs, f"rtu bus {bus_name}")
        except Exception:
            await self.stop()
            raise
        # the first refresh filled the series caches (seconds of work): start the clock after it
        self.clock.restart()
        self.refresh()
        self._tick = asyncio.create_task(self._tick_loop(), name="simulator-tick")

    def _serial_server(self, bus: SerialBusConfig, devs: list[SimulatedDevice]) -> ModbusSerialServer:
        port = bus.port
        if port == "auto":
            pair = open_pty_pair()
            self.ptys[bus.name] = pair
            port = pair.server_port
            log.info("serial bus %s: a master opens %s", bus.name, pair.client_port)
        sims = [*(s for d in devs for s in d.sim_devices()), _nobody()]
        return ModbusSerialServer(sims, framer=FramerType.RTU, port=port,
                                  baudrate=bus.baudrate, parity=bus.parity, stopbits=bus.stopbits,
                                  bytesize=bus.bytesize, ignore_missing_devices=True)

    async def _serve(self, server: ModbusTcpServer | ModbusSerialServer, devs: list[SimulatedDevice],
                     where: str) -> None:
        await server.serve_forever(background=True)
        self._servers.append(server)
        for d in devs:
            for unit in d.unit_ids:
                d.attach(unit, server.context.devices[unit])  # type: ignore[union-attr]
        log.info("serving %s on %s", ", ".join(d.name for d in devs), where)

    async def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
            self._tick = None
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.shutdown()
        self._servers = []
        for pair in self.ptys.values():
            pair.close()
        self.ptys = {}

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- time ---------------------------------------------------------------------------

    def refresh(self) -> None:
        t = self.clock.now()
        for dev in self.devices.values():  # a meter sees what the devices behind it draw
            if dev.cfg.behind:
                dev.model.behind_w = sum(self.devices[b].model.drawn_w() for b in dev.cfg.behind
                                         if b in self.devices)
        for dev in self.devices.values():  # a tank fills with what its pump was last told to deliver
            tank = dev.cfg.tank
            if tank is not None and tank.pump_device in self.devices:
                pump = self.devices[tank.pump_device].model
                dev.model.pump_flow_m3h = max(0.0, pump.values.get("pump_flow_setpoint_m3h", 0.0))
        for dev in self.devices.values():
            try:
                dev.refresh(t)
            except Exception:  # one broken model must not take the factory floor down
                log.exception("%s: model update failed", dev.name)
        self.ticks += 1

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.simulator.tick_s)
            if self.config.simulator.speed > 0:
                self.refresh()

    # -- for tests and demos -------------------------------------------------------------

    def set_faults(self, device: str, faults: Faults) -> None:
        """Change a device's faults at run time (NaN takes effect at the next tick)."""
        dev = self.devices[device]
        dev.faults = faults
        dev.refresh(self.clock.now())

    def client_port(self, bus: str) -> str:
        """The serial port a master opens for ``bus``: the pty's other end, or the configured port."""
        if bus in self.ptys:
            return self.ptys[bus].client_port
        return next(b.port for b in self.config.buses if b.name == bus)


async def _silent(*_args: object) -> None:
    raise NoSuchIdException("no device with this unit id")


def _nobody() -> SimDevice:
    """Unit id 0 stands for every id not served: nobody answers, as on a real bus."""
    # every address must exist, or the server answers "illegal address" before asking the action
    everything = SimData(0, count=65536, values=0, datatype=SimType.REGISTERS)
    return SimDevice(0, simdata=[everything], action=_silent)
