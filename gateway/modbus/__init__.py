"""Modbus acquisition: links (TCP endpoints, serial buses), per-device pollers, SunSpec discovery.

For the gateway service::

    group = PollerGroup.from_config(config, on_result=handle)   # handle(PollResult) is async
    async with group:                       # each device on its own fixed time grid
        ...
        group.status()                      # {device: nzd.DeviceState}
        await group.write_point("battery-inverter", "battery_power_setpoint_w", -5000.0)

``PollResult.telemetry(seq=n)`` is the contract message of one reading.
"""

from gateway.modbus.errors import (
    ModbusConnectError,
    ModbusDeviceError,
    ModbusError,
    ModbusProtocolError,
    ModbusTimeout,
    exception_name,
)
from gateway.modbus.group import PollerGroup
from gateway.modbus.poller import DevicePoller, OnResult, PollSettings
from gateway.modbus.result import DeviceStatus, PollResult
from gateway.modbus.sunspec import SunSpecDevice, SunSpecModel, build_profile, discover
from gateway.modbus.transport import ModbusLink, SerialLink, TcpLink, rtu_inter_frame_delay_s

__all__ = [
    "DevicePoller",
    "DeviceStatus",
    "ModbusConnectError",
    "ModbusDeviceError",
    "ModbusError",
    "ModbusLink",
    "ModbusProtocolError",
    "ModbusTimeout",
    "OnResult",
    "PollResult",
    "PollSettings",
    "PollerGroup",
    "SerialLink",
    "SunSpecDevice",
    "SunSpecModel",
    "TcpLink",
    "build_profile",
    "discover",
    "exception_name",
    "rtu_inter_frame_delay_s",
]
