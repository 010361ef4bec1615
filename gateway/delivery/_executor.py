"""One worker thread for SQLite, so that disk writes never block the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["DiskWorker"]

P = ParamSpec("P")
T = TypeVar("T")


class DiskWorker:
    """Runs blocking calls in order on a single thread (SQLite wants one writer)."""

    def __init__(self, *, name: str = "nzd-disk") -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
