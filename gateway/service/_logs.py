"""Logs: one JSON object per line (``--log-json``) for collectors, or plain text for a terminal."""

from __future__ import annotations

from nzd.logs import JsonFormatter
from nzd.logs import configure_logging as _configure

__all__ = ["JsonFormatter", "configure_logging"]


def configure_logging(level: str, *, json_logs: bool, secrets: list[str] | None = None) -> None:
    _configure(level, json_logs=json_logs, quiet=("pymodbus",), secrets=secrets or ())
