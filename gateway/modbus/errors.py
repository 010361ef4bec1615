"""What can go wrong talking to one Modbus device, as exceptions the poller counts by reason."""

from __future__ import annotations

__all__ = [
    "ModbusConnectError",
    "ModbusDeviceError",
    "ModbusError",
    "ModbusProtocolError",
    "ModbusTimeout",
    "exception_name",
]

_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


def exception_name(code: int) -> str:
    return _EXCEPTION_NAMES.get(code, f"exception code {code}")


class ModbusError(Exception):
    """A request that did not return data. ``reason`` is a short label for metrics."""

    reason = "error"


class ModbusTimeout(ModbusError):
    """The device did not answer within the request timeout."""

    reason = "timeout"


class ModbusConnectError(ModbusError):
    """The TCP connection or the serial port could not be opened."""

    reason = "connect"


class ModbusProtocolError(ModbusError):
    """An answer that is not valid Modbus (a garbled frame, a wrong length), or a client error."""

    reason = "protocol"


class ModbusDeviceError(ModbusError):
    """The device answered with a Modbus exception response: it is alive but refused."""

    reason = "exception"

    def __init__(self, code: int, *, function_code: int = 0) -> None:
        self.code = code
        self.function_code = function_code
        super().__init__(f"Modbus exception {code} ({exception_name(code)}) to function {function_code}")
