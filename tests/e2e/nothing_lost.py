"""The rig of the "nothing lost" tests: a gateway in process, ingest as a process, real servers.

Every (device, seq) the gateway queues is recorded (``produced``, from what the
buffer returns) and compared with what InfluxDB holds (``stored``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gateway.delivery import Reading
from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import GatewayStatus, Telemetry
from tests.coordinator.ingest.support import IngestProcess
from tests.gateway.service.support import ModbusThread, Subscriber, until, write_gateway_config
from tests.harness import InfluxServer, MosquittoServer

CONFIRM_TIMEOUT_S = 3.0


def stored_pairs(influx: InfluxServer, database: str) -> set[tuple[str, int]]:
    """Every (device, seq) InfluxDB holds; empty while it is down."""
    try:
        r = httpx.post(f"{influx.url}/query", timeout=10,
                       params={"db": database, "q": 'SELECT "seq", "device" FROM "electricity_meter"'})
    except httpx.HTTPError:
        return set()
    if r.status_code != 200:
        return set()
    series = r.json()["results"][0].get("series") or []
    return {(str(device), int(seq)) for s in series for _, seq, device in s["values"]}


@dataclass
class Rig:
    tmp: Path
    broker: MosquittoServer
    influx: InfluxServer
    modbus: ModbusThread
    service: GatewayService
    sub: Subscriber
    database: str = field(default_factory=lambda: f"e2e_{uuid.uuid4().hex[:8]}")
    group: str = field(default_factory=lambda: f"g{uuid.uuid4().hex[:8]}")
    produced: list[tuple[str, int]] = field(default_factory=list)
    ingest: IngestProcess | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, tmp: Path, *, broker: MosquittoServer, influx: InfluxServer, meters: int = 10,
                    buffer_path: Path | None = None) -> Rig:
        modbus = ModbusThread().start()
        cfg = load_gateway_config(write_gateway_config(
            tmp, broker_port=broker.port, modbus_port=modbus.port, meters=meters, confirm=True,
            confirm_timeout_s=CONFIRM_TIMEOUT_S, buffer_path=buffer_path))
        service = GatewayService(config=cfg)
        sub = await asyncio.to_thread(Subscriber, port=broker.port, client_id=f"watch-{uuid.uuid4().hex[:6]}",
                                      topics=["nzd/v1/+/+/+/status"])
        rig = cls(tmp, broker, influx, modbus, service, sub)
        rig._record_produced()
        rig._task = asyncio.create_task(service.run(rig._stop))
        return rig

    def _record_produced(self) -> None:
        """Observe what the buffer queued: the readings it returns got their seq and are on disk."""
        buffer = self.service.buffer
        append = buffer.append

        def recording(readings: Sequence[Reading]) -> list[Telemetry]:
            queued = append(readings)
            self.produced.extend((m.device, m.seq) for m in queued)
            return queued

        buffer.append = recording  # type: ignore[method-assign]

    async def start_ingest(self, **extra: str) -> IngestProcess:
        self.ingest = IngestProcess(mqtt_port=self.broker.port, influx_url=self.influx.url,
                                    database=self.database, client_id="ingest-e2e", group=self.group,
                                    log_path=self.tmp / "ingest.log", sqlite_path=None, **extra)
        await asyncio.to_thread(self.ingest.start)
        return self.ingest

    async def stop_ingest(self) -> None:
        if self.ingest is not None:
            await asyncio.to_thread(self.ingest.stop)

    def stored(self) -> set[tuple[str, int]]:
        return stored_pairs(self.influx, self.database)

    async def all_stored(self, *, timeout_s: float, what: str) -> None:
        """Wait until everything produced so far is in InfluxDB."""
        target = set(self.produced)

        async def check() -> bool:
            return target <= await asyncio.to_thread(self.stored)

        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                missing = target - await asyncio.to_thread(self.stored)
                raise AssertionError(f"{what}: {len(missing)} of {len(target)} readings not stored, "
                                     f"e.g. {sorted(missing)[:5]}")
            await asyncio.sleep(0.5)

    async def readings(self, n: int, *, timeout_s: float = 30) -> None:
        """Wait until ``n`` more readings were queued."""
        target = len(self.produced) + n
        await until(lambda: len(self.produced) >= target, timeout_s=timeout_s, what=f"{n} more readings")

    def statuses(self) -> list[GatewayStatus]:
        return self.sub.statuses()

    async def close(self) -> None:
        """Stop polling, let the queue be confirmed (clean shutdown), then the rest."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 60)
        await self.stop_ingest()
        await asyncio.to_thread(self.sub.close)
        self.modbus.close()
