"""The district clock: the one "now" every process of a district reads.

In production it is the wall clock. The demo runs a simulated district: simulated time starts at
``start_ms`` when the wall clock read ``origin_ms`` and runs ``speed`` times faster. The demo passes
the three numbers to each child process in ``NZD_CLOCK_*`` variables, so that the simulator, the
gateways, ingest, the coordinator, the API and (through the API) the dashboard share one time.
Derived from the wall clock rather than each process's start, so they agree to the millisecond.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ENV_ORIGIN", "ENV_SPEED", "ENV_START", "Clock", "district_clock"]

ENV_START = "NZD_CLOCK_START_MS"
"""Simulated epoch milliseconds at the origin."""
ENV_ORIGIN = "NZD_CLOCK_ORIGIN_MS"
"""Wall-clock epoch milliseconds at which simulated time was ``NZD_CLOCK_START_MS``."""
ENV_SPEED = "NZD_CLOCK_SPEED"
"""Simulated seconds per real second."""


@dataclass(frozen=True, slots=True)
class Clock:
    """``start_ms`` None is the wall clock (speed 1)."""

    start_ms: int | None = None
    origin_ms: int = 0
    speed: float = 1.0

    @classmethod
    def simulated(cls, *, start_ms: int, speed: float, origin_ms: int | None = None) -> Clock:
        if not 0 < speed <= 100_000:
            raise ValueError(f"clock speed {speed!r}: give a number of simulated seconds per second > 0")
        origin = time.time_ns() // 1_000_000 if origin_ms is None else origin_ms
        return cls(start_ms=start_ms, origin_ms=origin, speed=speed)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Clock:
        """The clock the ``NZD_CLOCK_*`` variables describe; the wall clock without them.

        Raises ValueError naming the variable for a value that is not a number."""
        env = os.environ if environ is None else environ
        if not env.get(ENV_START):
            return cls()
        values: dict[str, float] = {}
        for name, default in ((ENV_START, None), (ENV_ORIGIN, None), (ENV_SPEED, "1")):
            text = env.get(name) or default
            if text is None:
                raise ValueError(f"{name} is required with {ENV_START}")
            try:
                values[name] = float(text)
            except ValueError:
                raise ValueError(f"{name}={text!r} is not a number") from None
        return cls.simulated(start_ms=int(values[ENV_START]), origin_ms=int(values[ENV_ORIGIN]),
                             speed=values[ENV_SPEED])

    @property
    def is_simulated(self) -> bool:
        return self.start_ms is not None

    def env(self) -> dict[str, str]:
        """The variables that give a child process this clock ({} for the wall clock)."""
        if self.start_ms is None:
            return {}
        return {ENV_START: str(self.start_ms), ENV_ORIGIN: str(self.origin_ms), ENV_SPEED: f"{self.speed:g}"}

    def now_s(self) -> float:
        wall_s = time.time()
        if self.start_ms is None:
            return wall_s
        return self.start_ms / 1000.0 + max(0.0, wall_s - self.origin_ms / 1000.0) * self.speed

    def now_ms(self) -> int:
        return int(self.now_s() * 1000)

    def real_s(self, simulated_s: float) -> float:
        """How long ``simulated_s`` of district time lasts on the wall clock."""
        return simulated_s / self.speed

    def real_until(self, simulated_at_s: float) -> float:
        """Wall seconds from now until district time reads ``simulated_at_s`` (0 if it has)."""
        if self.start_ms is None:
            return max(0.0, simulated_at_s - time.time())
        wall_s = time.time()
        wait_origin_s = max(0.0, self.origin_ms / 1000.0 - wall_s)
        return wait_origin_s + max(0.0, simulated_at_s - self.now_s()) / self.speed

    async def sleep(self, simulated_s: float) -> None:
        await asyncio.sleep(max(0.0, self.real_s(simulated_s)))


@functools.cache
def district_clock() -> Clock:
    """This process's clock, from the environment at first use."""
    return Clock.from_env()
