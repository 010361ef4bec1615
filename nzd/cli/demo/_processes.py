"""Child processes of the demo: started together, logged to files, all stopped on exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessGroup"]


@dataclass(slots=True)
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


class ProcessGroup:
    """``python -m nzd ...`` children; each in its own session so Ctrl-C reaches only us."""

    def __init__(self, *, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.children: list[_Child] = []

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "nzd", *args], stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, **self.env, **(env or {})}, start_new_session=True,
            )
        self.children.append(_Child(name, proc, log))

    def exited(self) -> list[tuple[str, int, Path]]:
        return [(c.name, rc, c.log) for c in self.children if (rc := c.proc.poll()) is not None]

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM every child, then SIGKILL what is left after ``timeout_s``."""
        for c in self.children:
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for c in self.children:
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(c.proc.pid, signal.SIGKILL)
                c.proc.wait(timeout=5)
        self.children.clear()
