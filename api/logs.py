"""Structured JSON logs, and the access-log middleware that also feeds the request metrics."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import ApiMetrics
from nzd.logs import JsonFormatter
from nzd.logs import configure_logging as _configure

__all__ = ["AccessLogMiddleware", "JsonFormatter", "configure_logging"]

access_log = logging.getLogger("api.access")


class _DroppedStreamFilter(logging.Filter):
    """uvicorn reports a live stream we cut off on purpose (a client fell behind and was dropped,
    logged by api.live) as an error; it is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


def configure_logging(level: str, *, json_logs: bool, secrets: list[str] | None = None) -> None:
    _configure(level, json_logs=json_logs, secrets=secrets or ())
    logging.getLogger("uvicorn.error").addFilter(_DroppedStreamFilter())


class AccessLogMiddleware:
    """One JSON line per request: method, path, route, status, duration, user."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics, enabled: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            duration_s = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.request_seconds.labels(method, template).observe(duration_s)
            if self.enabled:
                user = scope.get("state", {}).get("user")
                access_log.info("%s %s %d", method, scope["path"], status, extra={"fields": {
                    "method": method, "path": scope["path"], "route": template, "status": status,
                    "duration_ms": round(duration_s * 1000, 2), "user": user,
                    "client": (scope.get("client") or ("", 0))[0]}})
