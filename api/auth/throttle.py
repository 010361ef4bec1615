"""A limit on login attempts, per client address and per user name, in the app.

Attempts are counted when they start (so a burst of concurrent ones is counted at once), and
a successful login takes its own attempt back. Over the limit within the window, a login is
answered 429 with Retry-After before any (deliberately slow) password check runs: a flood of
bogus logins neither guesses passwords nor starves the real users' logins of CPU.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["LoginThrottle"]

_MAX_KEYS = 100_000


class LoginThrottle:
    def __init__(self, *, per_address: int, per_user: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_address = per_address
        self.per_user = per_user
        self.window_s = window_s
        self.clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._attempts.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def acquire(self, *, address: str, username: str) -> float | None:
        """Count an attempt and return None; or, over a limit, the seconds to wait (nothing counted)."""
        now = self.clock()
        if len(self._attempts) > _MAX_KEYS:  # bound the memory an address-hopping flood can take
            self._attempts = {k: v for k, v in self._attempts.items() if v and v[-1] > now - self.window_s}
        keys = ((f"a:{address}", self.per_address), (f"u:{username}", self.per_user))
        waits = [times[0] + self.window_s - now
                 for key, limit in keys if len(times := self._recent(key, now)) >= limit]
        if waits:
            return max(max(waits), 1.0)
        for key, _ in keys:
            self._attempts[key].append(now)
        return None

    def succeeded(self, *, address: str, username: str) -> None:
        """A login that succeeded does not count against its address or user."""
        for key in (f"a:{address}", f"u:{username}"):
            times = self._attempts.get(key)
            if times:
                times.pop()
