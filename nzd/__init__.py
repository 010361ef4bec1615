"""nzd: the shared kernel of the Net-Zero District software.

The message contract, quantity vocabulary, configuration models and settings
that gateways, ingest, coordinator and API all use.
"""

from nzd._version import __version__
from nzd.errors import ConfigError, ContractError
from nzd.messages import (
    CONTRACT_VERSION,
    Ack,
    AckResult,
    Alert,
    AlertSeverity,
    Confirm,
    DeviceKind,
    DeviceState,
    GatewayState,
    GatewayStatus,
    Quality,
    Setpoint,
    SetpointSource,
    Telemetry,
    decode,
    encode,
)
from nzd.quantities import QUANTITIES, Quantity, QuantityKind, is_counter, quantity
from nzd.topics import (
    Topic,
    TopicKind,
    ack_topic,
    alert_topic,
    confirm_topic,
    parse_topic,
    setpoint_topic,
    site_filter,
    status_topic,
    telemetry_topic,
)

__all__ = [
    "CONTRACT_VERSION",
    "QUANTITIES",
    "Ack",
    "AckResult",
    "Alert",
    "AlertSeverity",
    "ConfigError",
    "Confirm",
    "ContractError",
    "DeviceKind",
    "DeviceState",
    "GatewayState",
    "GatewayStatus",
    "Quality",
    "Quantity",
    "QuantityKind",
    "Setpoint",
    "SetpointSource",
    "Telemetry",
    "Topic",
    "TopicKind",
    "__version__",
    "ack_topic",
    "alert_topic",
    "confirm_topic",
    "decode",
    "encode",
    "is_counter",
    "parse_topic",
    "quantity",
    "setpoint_topic",
    "site_filter",
    "status_topic",
    "telemetry_topic",
]
