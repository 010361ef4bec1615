"""Fixtures that start real servers: Mosquitto, InfluxDB and a pymodbus TCP server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.harness import InfluxServer, MosquittoServer, free_port, wait_for_port


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MosquittoServer]:
    """A shared anonymous Mosquitto; tests must use their own topics."""
    server = MosquittoServer().start()
    yield server
    server.close()


@pytest.fixture
def mosquitto_factory() -> Iterator[Callable[..., MosquittoServer]]:
    """Private Mosquitto servers a test may stop and restart (outage tests, ACLs)."""
    servers: list[MosquittoServer] = []

    def make(**kwargs: object) -> MosquittoServer:
        server = MosquittoServer(**kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield make
    for s in servers:
        s.close()


@pytest.fixture(scope="session")
def influxdb() -> Iterator[InfluxServer]:
    """A shared influxd; tests must use their own database names."""
    server = InfluxServer().start()
    yield server
    server.close()


@pytest.fixture
def influx_factory() -> Iterator[Callable[..., InfluxServer]]:
    servers: list[InfluxServer] = []

    def make(**kwargs: object) -> InfluxServer:
        server = InfluxServer(**kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield make
    for s in servers:
        s.close()


@dataclass
class ModbusTcp:
    host: str
    port: int
    context: object
    """The pymodbus ModbusServerContext: tests set register values through it."""


@pytest.fixture
async def modbus_server() -> AsyncIterator[ModbusTcp]:
    """A pymodbus TCP server, unit 1, 10,000 zeroed registers in every table."""
    from pymodbus.datastore import (
        ModbusDeviceContext,
        ModbusSequentialDataBlock,
        ModbusServerContext,
    )
    from pymodbus.server import ModbusTcpServer

    def block() -> ModbusSequentialDataBlock:
        return ModbusSequentialDataBlock(1, [0] * 10_000)

    device = ModbusDeviceContext(di=block(), co=block(), hr=block(), ir=block())
    context = ModbusServerContext(devices={1: device}, single=False)
    port = free_port()
    server = ModbusTcpServer(context, address=("127.0.0.1", port))
    task = asyncio.create_task(server.serve_forever())
    await asyncio.to_thread(wait_for_port, port)
    yield ModbusTcp("127.0.0.1", port, context)
    await server.shutdown()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
