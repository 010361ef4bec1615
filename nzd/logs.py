"""Structured logs for every nzd service: one JSON object per line, or plain text for a terminal.

Every line goes through :class:`RedactingFilter` first: passwords in URLs (``user:pass@``),
credential query parameters and the service's own secret values never reach a log.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["REDACTED", "JsonFormatter", "RedactingFilter", "configure_logging", "redact"]

REDACTED = "***"
# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)(?P<pw>[^@\s/]+)(?=@)")
# ?p=...&password=...&token=... (InfluxDB 1.x's u/p parameters, and the usual names)
_QUERY_SECRET = re.compile(r"(?P<head>[?&](?:p|password|token|access_token|secret)=)(?P<pw>[^&\s\"']+)",
                           re.IGNORECASE)
_MIN_SECRET_LEN = 4
"""Shorter values would blank ordinary words; such secrets are refused elsewhere anyway."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without URL passwords, credential parameters and the given secret values."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED, text)
    text = _QUERY_SECRET.sub(lambda m: m["head"] + REDACTED, text)
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LEN and secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, exception text and extra fields before any formatter."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first: a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep what can be shown
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: redact(v, self.secrets) if isinstance(v, str) else v
                             for k, v in fields.items()}
        return True


class JsonFormatter(logging.Formatter):
    """What log collectors take without parsing rules; ``extra={"fields": {...}}`` adds keys."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info or record.exc_text:
            doc["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return orjson.dumps(doc, default=str).decode()


def configure_logging(level: str, *, json_logs: bool, quiet: tuple[str, ...] = (),
                      secrets: Iterable[str] = ()) -> None:
    """Route every logger to stderr through a :class:`RedactingFilter` of ``secrets``;
    ``quiet`` loggers (chatty libraries) log warnings and up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in quiet:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
