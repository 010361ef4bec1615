"""Links: one pymodbus client per TCP endpoint or serial bus, one request at a time.

A serial bus is a single shared wire: one asyncio lock per bus serialises every
request on it, and after each answer the link keeps the bus silent for the
inter-frame delay RTU needs (3.5 character times, 1.75 ms above 19,200 baud)
before the next request goes out. A TCP endpoint gets the same treatment,
because Modbus TCP gateways in front of RS-485 devices answer one request at a
time too. The request timeout is the calling device's, set on the client under
the lock, so devices with different timeouts can share a bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from gateway.modbus.errors import (
    ModbusConnectError,
    ModbusDeviceError,
    ModbusError,
    ModbusProtocolError,
    ModbusTimeout,
)
from nzd.config import SerialBusConfig

__all__ = ["BIT_TABLES", "REGISTER_TABLES", "ModbusLink", "SerialLink", "TcpLink", "rtu_inter_frame_delay_s"]

log = logging.getLogger(__name__)

REGISTER_TABLES = ("holding", "input")
BIT_TABLES = ("coil", "discrete")


def rtu_inter_frame_delay_s(*, baudrate: int, parity: str = "N", stopbits: int = 1,
                            bytesize: int = 8) -> float:
    """3.5 character times; the RTU spec fixes 1.75 ms for rates above 19,200 baud."""
    if baudrate > 19_200:
        return 0.00175
    bits = 1 + bytesize + (0 if parity == "N" else 1) + stopbits
    return 3.5 * bits / baudrate


class ModbusLink:
    """One client, one lock. Subclasses build the client."""

    name: str
    inter_frame_delay_s: float = 0.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None

    def _make_client(self, timeout_s: float) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        raise NotImplementedError

    async def _connected(self, timeout_s: float) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        if self._client is None:
            self._client = self._make_client(timeout_s)
        client = self._client
        if not client.connected:
            client.comm_params.timeout_connect = timeout_s
            try:
                ok = await asyncio.wait_for(client.connect(), timeout=timeout_s + 1.0)
            except (TimeoutError, OSError) as exc:
                ok = False
                log.debug("connect %s failed: %s", self.name, exc)
            if not ok:
                client.close()
                self._client = None
                raise ModbusConnectError(f"cannot connect to {self.name}")
        return client

    async def _execute(self, op: str, unit_id: int, timeout_s: float, *args: Any, **kwargs: Any) -> Any:
        async with self.lock:
            try:
                client = await self._connected(timeout_s)
                client.ctx.comm_params.timeout_connect = timeout_s
                call = getattr(client, op)
                # the outer bound only guards against a client that never returns
                response = await asyncio.wait_for(call(*args, device_id=unit_id, **kwargs),
                                                  timeout=timeout_s * 2 + 1.0)
            except ModbusError:
                raise
            except ModbusIOException as exc:
                raise ModbusTimeout(f"{self.name} unit {unit_id}: no answer within {timeout_s} s") from exc
            except (ConnectionException, OSError) as exc:
                self._drop()
                raise ModbusConnectError(f"{self.name}: {exc}") from exc
            except TimeoutError as exc:
                self._drop()
                raise ModbusTimeout(f"{self.name} unit {unit_id}: no answer within {timeout_s} s") from exc
            except (ModbusException, ValueError, TypeError) as exc:
                raise ModbusProtocolError(f"{self.name} unit {unit_id}: {exc}") from exc
            finally:
                if self.inter_frame_delay_s:
                    await asyncio.sleep(self.inter_frame_delay_s)
        if response.isError():
            raise ModbusDeviceError(int(getattr(response, "exception_code", 0)),
                                    function_code=int(getattr(response, "function_code", 0)) & 0x7F)
        return response

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def read(self, *, table: str, address: int, count: int, unit_id: int,
                   timeout_s: float) -> list[int]:
        """Registers (as 16-bit ints) or bits (as 0/1) from ``table``."""
        ops = {"holding": "read_holding_registers", "input": "read_input_registers",
               "coil": "read_coils", "discrete": "read_discrete_inputs"}
        if table not in ops:
            raise ValueError(f"unknown register table {table!r}")
        response = await self._execute(ops[table], unit_id, timeout_s, address, count=count)
        if table in REGISTER_TABLES:
            words = list(response.registers)
            if len(words) < count:
                raise ModbusProtocolError(f"{self.name} unit {unit_id}: short answer, "
                                          f"{len(words)} of {count} registers")
            return words[:count]
        return [int(bool(b)) for b in response.bits[:count]]

    async def write_registers(self, *, address: int, words: Sequence[int], unit_id: int,
                              timeout_s: float) -> None:
        await self._execute("write_registers", unit_id, timeout_s, address, list(words))

    async def write_coil(self, *, address: int, value: bool, unit_id: int, timeout_s: float) -> None:
        await self._execute("write_coil", unit_id, timeout_s, address, value)

    async def close(self) -> None:
        async with self.lock:
            self._drop()


class TcpLink(ModbusLink):
    def __init__(self, *, host: str, port: int) -> None:
        super().__init__(f"{host}:{port}")
        self.host = host
        self.port = port

    def _make_client(self, timeout_s: float) -> AsyncModbusTcpClient:
        # retries are the poller's (with backoff); reconnects too
        return AsyncModbusTcpClient(self.host, port=self.port, timeout=timeout_s, retries=0,
                                    reconnect_delay=0, name=f"tcp-{self.name}")


class SerialLink(ModbusLink):
    def __init__(self, bus: SerialBusConfig) -> None:
        super().__init__(f"bus {bus.name} ({bus.port})")
        self.bus = bus
        if bus.inter_frame_delay_ms is not None:
            self.inter_frame_delay_s = bus.inter_frame_delay_ms / 1000.0
        else:
            self.inter_frame_delay_s = rtu_inter_frame_delay_s(
                baudrate=bus.baudrate, parity=bus.parity, stopbits=bus.stopbits, bytesize=bus.bytesize)

    def _make_client(self, timeout_s: float) -> AsyncModbusSerialClient:
        b = self.bus
        return AsyncModbusSerialClient(b.port, baudrate=b.baudrate, parity=b.parity, stopbits=b.stopbits,
                                       bytesize=b.bytesize, timeout=timeout_s, retries=0,
                                       reconnect_delay=0, name=f"rtu-{b.name}")
