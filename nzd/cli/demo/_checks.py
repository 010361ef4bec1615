"""Checks before the demo starts anything: free ports, reachable servers, a valid start time."""

from __future__ import annotations

import socket
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import httpx

__all__ = ["DEMO_DAY", "DemoError", "check_influx", "check_port_free", "check_reachable", "port_is_free",
           "simulated_start"]


class DemoError(RuntimeError):
    """Something the person running the demo must fix; printed without a traceback."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        # Like the servers we start: a port in TIME_WAIT is free for them.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def check_port_free(port: int, host: str, *, what: str, option: str) -> None:
    if not port_is_free(port, host):
        raise DemoError(f"port {port} on {host} is already in use, so the {what} cannot listen there; "
                        f"stop what uses it or choose another with {option}")


def check_reachable(host: str, port: int, *, what: str, timeout_s: float = 3.0) -> None:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except OSError as exc:
        raise DemoError(f"cannot reach the {what} at {host}:{port}: {exc}") from None


def check_influx(url: str, *, timeout_s: float = 5.0) -> None:
    try:
        r = httpx.get(f"{url.rstrip('/')}/ping", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise DemoError(f"cannot reach InfluxDB at {url}: {exc}") from None
    if r.status_code not in (200, 204):
        raise DemoError(f"InfluxDB at {url} answered /ping with HTTP {r.status_code}")


DEMO_DAY = date(2026, 6, 17)
"""A clear June weekday (a Wednesday) in the reference year's clouds: the demo's default day."""
DEMO_START = time(7, 0)


def simulated_start(text: str | None, *, tz: str) -> datetime:
    """The simulated moment the demo starts at: by default 07:00 of :data:`DEMO_DAY` (district time);
    ``HH:MM`` on that day, ``now`` for the wall clock's now, or an ISO date-time."""
    zone = ZoneInfo(tz)
    if text is None:
        return datetime.combine(DEMO_DAY, DEMO_START, tzinfo=zone)
    if text.strip().lower() == "now":
        return datetime.now(zone).replace(microsecond=0)
    try:
        at = datetime.combine(DEMO_DAY, time.fromisoformat(text), tzinfo=zone)
    except ValueError:
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise DemoError(f"--start {text!r}: give HH:MM (on the demo day, {DEMO_DAY}), 'now' or a "
                            "date-time such as 2026-06-03T07:00:00+02:00") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=zone)
    return at
