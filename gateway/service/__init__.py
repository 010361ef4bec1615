"""The gateway service behind ``nzd gateway run CONFIG``."""

from gateway.service._logs import JsonFormatter, configure_logging
from gateway.service._run import run_gateway
from gateway.service._service import GatewayService
from gateway.service._status import config_hash, status_message
from gateway.service._writer import GroupPointWriter

__all__ = [
    "GatewayService",
    "GroupPointWriter",
    "JsonFormatter",
    "config_hash",
    "configure_logging",
    "run_gateway",
    "status_message",
]
