"""The gateway configuration: which devices one gateway polls and which assets it may drive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from nzd.identifiers import Identifier

__all__ = [
    "AssetConfig",
    "BrokerConfig",
    "BufferConfig",
    "DeviceConfig",
    "FallbackConfig",
    "GatewayConfig",
    "RtuTransport",
    "SerialBusConfig",
    "TcpTransport",
    "TlsConfig",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TlsConfig(_Strict):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False
    """Skip host name verification (test benches only)."""


class BrokerConfig(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    """Read the password from this file (keeps secrets out of the config)."""
    tls: TlsConfig | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    client_id: str | None = None


class BufferConfig(_Strict):
    path: Path = Path("var/gateway-buffer.sqlite")
    max_bytes: Annotated[int, Field(ge=1_000_000)] = 256 * 1024 * 1024
    """Disk budget for readings waiting for the broker; the oldest are dropped beyond it."""
    replay_per_s: Annotated[float, Field(gt=0)] = 500.0
    """Replay rate of the backlog after an outage, on top of live readings."""
    confirm: bool = True
    """Keep a reading until ingest confirms the store has it (``…/confirm/{device}``); false:
    delete it at the broker's PUBACK, for a broker no ``nzd ingest`` reads (nothing confirms)."""
    confirm_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """A reading published and not confirmed after this long is sent again (marked replayed);
    each further attempt waits twice as long, up to 8 times this."""


class SerialBusConfig(_Strict):
    name: Identifier
    port: str
    baudrate: Annotated[int, Field(gt=0)] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    inter_frame_delay_ms: Annotated[float, Field(ge=0)] | None = None
    """Silence between frames; default 3.5 character times (at least 1.75 ms)."""


class TcpTransport(_Strict):
    type: Literal["tcp"] = "tcp"
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 502


class RtuTransport(_Strict):
    type: Literal["rtu"] = "rtu"
    bus: Identifier
    """Name of a serial bus in ``buses``."""


Transport = Annotated[TcpTransport | RtuTransport, Field(discriminator="type")]


class DeviceConfig(_Strict):
    name: Identifier
    profile: str
    """A profile name from firmware_configs/profiles (without .yaml) or a path."""
    transport: Transport
    unit_id: Annotated[int, Field(ge=0, le=247)] = 1
    poll_interval_s: Annotated[float, Field(gt=0, le=3600)] = 1.0
    poll_offset_s: Annotated[float, Field(ge=0, le=3600)] = 0.0
    """Where in each interval this device is read (like Telegraf's collection_offset): spreads
    many devices over the interval instead of reading them all at the same instant."""
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    profile_options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Per-installation choices a profile leaves open (word order, channel scaling, ...)."""


class FallbackConfig(_Strict):
    value: float
    """Value written when no valid setpoint is left (e.g. 0 W for a battery)."""
    description: str = "safe local mode"


class AssetConfig(_Strict):
    """A controllable asset and its local limits; setpoints outside them are refused."""

    name: Identifier
    device: Identifier
    point: str
    """The writable quantity of the device's profile, e.g. battery_power_setpoint_w."""
    min_value: float
    max_value: float
    max_ramp_per_s: Annotated[float, Field(gt=0)] | None = None
    """Largest change of the setpoint per second; None means no ramp limit."""
    fallback: FallbackConfig


class GatewayConfig(_Strict):
    gateway: Identifier
    district: Identifier
    site: Identifier
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    buffer: BufferConfig = Field(default_factory=BufferConfig)
    buses: list[SerialBusConfig] = Field(default_factory=list)
    devices: list[DeviceConfig]
    assets: list[AssetConfig] = Field(default_factory=list)

    def cross_check(self) -> Iterator[tuple[tuple[int | str, ...], str]]:
        """References between sections, reported with their field paths."""
        buses = {b.name for b in self.buses}
        devices: dict[str, int] = {}
        for i, dev in enumerate(self.devices):
            if dev.name in devices:
                yield ("devices", i, "name"), f"duplicate device name {dev.name!r}"
            devices[dev.name] = i
            if dev.poll_offset_s >= dev.poll_interval_s:
                yield ("devices", i, "poll_offset_s"), "must be less than poll_interval_s"
            if isinstance(dev.transport, RtuTransport) and dev.transport.bus not in buses:
                yield ("devices", i, "transport", "bus"), f"unknown serial bus {dev.transport.bus!r}"
        seen: set[str] = set()
        for i, asset in enumerate(self.assets):
            if asset.name in seen:
                yield ("assets", i, "name"), f"duplicate asset name {asset.name!r}"
            seen.add(asset.name)
            if asset.device not in devices:
                yield ("assets", i, "device"), f"unknown device {asset.device!r}"
            if asset.min_value > asset.max_value:
                yield ("assets", i, "min_value"), "must not exceed max_value"
            if not asset.min_value <= asset.fallback.value <= asset.max_value:
                yield ("assets", i, "fallback", "value"), "must lie within min_value..max_value"
