"""Payloads of the MQTT contract, version 1, and their orjson encoding.

Every producer and consumer uses these models. :func:`decode` raises
:class:`~nzd.errors.ContractError`, and only that, on anything that is not a
valid message.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from nzd.errors import ContractError
from nzd.identifiers import Identifier

__all__ = [
    "CONTRACT_VERSION",
    "MAX_CONFIRM_RANGES",
    "RESERVED_QUANTITY_NAMES",
    "RESERVED_QUANTITY_PREFIX",
    "Ack",
    "AckResult",
    "Alert",
    "AlertSeverity",
    "Confirm",
    "DeviceKind",
    "DeviceState",
    "GatewayState",
    "GatewayStatus",
    "Message",
    "Quality",
    "Setpoint",
    "SetpointSource",
    "Telemetry",
    "check_quantity_name",
    "decode",
    "encode",
]

CONTRACT_VERSION = 1

# Epoch milliseconds between 2000-01-01 and 2200-01-01: catches seconds or
# microseconds sent by mistake.
EpochMs = Annotated[StrictInt, Field(ge=946_684_800_000, le=7_258_118_400_000)]
#: Names no quantity may take. A quantity becomes a field of the store next to the tags
#: ``district``, ``site`` and ``device``: a field named like a tag makes InfluxDB read every
#: ``WHERE "site" = ...`` of that measurement and shard against the field, so one gateway could
#: blank every site's data. ``time`` is InfluxDB's own column, ``seq`` the reading's sequence.
RESERVED_QUANTITY_NAMES = frozenset({"district", "site", "device", "kind", "time", "seq"})
#: The store's namespace (``nzd_quality``, ``nzd_replayed``...): no quantity starts with it.
RESERVED_QUANTITY_PREFIX = "nzd_"


def check_quantity_name(name: str) -> str:
    """``name`` unless it is reserved (a tag key, ``time``, ``seq`` or ``nzd_...``)."""
    if name in RESERVED_QUANTITY_NAMES or name.startswith(RESERVED_QUANTITY_PREFIX):
        raise ValueError(f"quantity name {name!r} is reserved (the store's tags "
                         f"{', '.join(sorted(RESERVED_QUANTITY_NAMES))} and the prefix "
                         f"{RESERVED_QUANTITY_PREFIX!r})")
    return name


QuantityName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$"), AfterValidator(check_quantity_name)]
_MAX_INT = 2**63 - 1


class DeviceKind(StrEnum):
    """One InfluxDB measurement per kind."""

    ELECTRICITY_METER = "electricity_meter"
    PV_INVERTER = "pv_inverter"
    BATTERY = "battery"
    WATER_FLOW_METER = "water_flow_meter"
    LEVEL_TRANSMITTER = "level_transmitter"
    PRESSURE_TRANSMITTER = "pressure_transmitter"
    WATER_QUALITY = "water_quality"
    ANALOG_IO = "analog_io"
    FLEXIBLE_LOAD = "flexible_load"
    PUMP = "pump"


class Quality(StrEnum):
    """Why a quantity is not good; good quantities carry no flag."""

    UNCERTAIN = "uncertain"
    BAD = "bad"
    NAN = "nan"
    OUT_OF_RANGE = "out_of_range"
    COMM_ERROR = "comm_error"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _finite(value: float, field: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{field} must be a finite number")
    return value


class Telemetry(_Message):
    """One reading of one device, all values taken at ``ts``."""

    ts: EpochMs
    seq: Annotated[StrictInt, Field(ge=0, le=_MAX_INT)]
    device: Identifier
    kind: Annotated[DeviceKind, Field(strict=False)]
    values: dict[QuantityName, float]
    quality: dict[QuantityName, Annotated[Quality, Field(strict=False)]] = Field(
        default_factory=dict
    )
    replayed: StrictBool = False

    @field_validator("values")
    @classmethod
    def _values_finite(cls, values: dict[str, float]) -> dict[str, float]:
        for name, v in values.items():
            _finite(v, f"values.{name}")
        return values

    @model_validator(mode="after")
    def _not_empty(self) -> Telemetry:
        if not self.values and not self.quality:
            raise ValueError("a reading needs at least one value or quality flag")
        return self


class GatewayState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class DeviceState(_Message):
    online: StrictBool
    last_read_ts: EpochMs | None = None
    errors: Annotated[StrictInt, Field(ge=0)] = 0
    detail: str | None = None
    headline: list[str] = Field(default_factory=list)
    """The quantities a person reads the device by, from its profile (dashboard device rows)."""
    poll_interval_s: Annotated[float, Field(gt=0)] | None = None
    """How often the gateway reads it (real seconds): the coordinator's silence alarm counts in polls."""


class GatewayStatus(_Message):
    """Retained on ``…/{gateway}/status``; the last will carries ``state=offline``."""

    gateway: Identifier
    state: Annotated[GatewayState, Field(strict=False)]
    ts: EpochMs
    software_version: str = ""
    config_hash: str = ""
    devices: dict[Identifier, DeviceState] = Field(default_factory=dict)
    buffered: Annotated[StrictInt, Field(ge=0)] = 0
    dropped: Annotated[StrictInt, Field(ge=0)] = 0
    reason: str | None = None


class SetpointSource(StrEnum):
    PLAN = "plan"
    MANUAL = "manual"


class Setpoint(_Message):
    """A setpoint for one asset, valid in ``[valid_from, valid_until)``.

    ``id`` is unique per setpoint (nzd/setpoint_ids.py); a gateway applies an id at most once
    and orders an asset's setpoints by ``issued_at`` (docs/dispatch.md).
    """

    id: Annotated[StrictInt, Field(ge=0, le=_MAX_INT)]
    asset: Identifier
    quantity: QuantityName
    value: float
    valid_from: EpochMs
    valid_until: EpochMs
    issued_at: EpochMs
    source: Annotated[SetpointSource, Field(strict=False)] = SetpointSource.PLAN
    plan_id: str | None = None

    @field_validator("value")
    @classmethod
    def _value_finite(cls, value: float) -> float:
        return _finite(value, "value")

    @model_validator(mode="after")
    def _window(self) -> Setpoint:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class AckResult(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    FALLBACK = "fallback"
    """No valid setpoint is left; the asset is back in its safe local mode."""


class Ack(_Message):
    setpoint_id: Annotated[StrictInt, Field(ge=0, le=_MAX_INT)] | None = None
    """None for a fallback applied by the watchdog."""
    asset: Identifier
    result: Annotated[AckResult, Field(strict=False)]
    ts: EpochMs
    value: float | None = None
    """The value read back from the device after writing, when there is one."""
    reason: str | None = None

    @field_validator("value")
    @classmethod
    def _value_finite(cls, value: float | None) -> float | None:
        return None if value is None else _finite(value, "value")


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(_Message):
    id: Identifier
    site: Identifier
    kind: QuantityName
    severity: Annotated[AlertSeverity, Field(strict=False)]
    ts: EpochMs
    message: str
    device: Identifier | None = None
    value: float | None = None
    threshold: float | None = None
    active: StrictBool = True


#: Ranges per confirmation at most: a gap-free stream needs one, so this bounds only pathological input.
MAX_CONFIRM_RANGES = 1000
SeqRange = Annotated[list[Annotated[StrictInt, Field(ge=0, le=_MAX_INT)]], Field(min_length=2, max_length=2)]


class Confirm(_Message):
    """Ingest to a gateway, on ``…/confirm/{device}``: these readings of the device are stored.

    ``ranges`` are inclusive ``[first, last]`` seq ranges, ascending; the gateway deletes
    them from its disk queue. A confirmation may repeat (QoS 1, or a replayed reading
    stored again): deleting twice is harmless.
    """

    device: Identifier
    ts: EpochMs
    ranges: Annotated[list[SeqRange], Field(min_length=1, max_length=MAX_CONFIRM_RANGES)]

    @field_validator("ranges")
    @classmethod
    def _ordered(cls, ranges: list[list[int]]) -> list[list[int]]:
        for first, last in ranges:
            if last < first:
                raise ValueError(f"range [{first}, {last}] ends before it starts")
        return ranges


Message = Telemetry | GatewayStatus | Setpoint | Ack | Alert | Confirm
M = TypeVar("M", Telemetry, GatewayStatus, Setpoint, Ack, Alert, Confirm)


def encode(message: Message) -> bytes:
    """Compact JSON bytes; fields left at ``None`` are omitted."""
    return orjson.dumps(message.model_dump(mode="json", exclude_none=True))


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def decode(payload: bytes | bytearray | memoryview | str, model: type[M]) -> M:
    """Decode ``payload`` as ``model``; raises :class:`ContractError` and nothing else."""
    try:
        data: Any = orjson.loads(payload)
    except (orjson.JSONDecodeError, TypeError) as exc:
        shown = bytes(payload[:40]) if not isinstance(payload, str) else payload[:40]
        raise ContractError(field="", value=shown, reason=f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ContractError(field="", value=data, reason=f"must be a JSON object for {model.__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        reason = str(first.get("msg", "invalid"))
        raise ContractError(
            field=_field_path(tuple(first.get("loc", ()))),
            value=first.get("input"),
            reason=reason,
        ) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise ContractError(field="", value=data, reason=str(exc)) from None
