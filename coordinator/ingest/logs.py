"""A rate-limited warning log: a flood of bad messages must not become a flood of log lines."""

from __future__ import annotations

import logging
import time

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """At most ``burst`` lines per ``per_s`` seconds, then a count of what was left out."""

    def __init__(self, log: logging.Logger, *, per_s: float = 10.0, burst: int = 10) -> None:
        self.log = log
        self.per_s, self.burst = per_s, burst
        self.window_start, self.count, self.suppressed = 0.0, 0, 0

    def warning(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self.window_start > self.per_s:
            if self.suppressed:
                self.log.warning("%d more such messages were not logged", self.suppressed)
            self.window_start, self.count, self.suppressed = now, 0, 0
        if self.count < self.burst:
            self.count += 1
            self.log.warning(msg, *args)
        else:
            self.suppressed += 1
