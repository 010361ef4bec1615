"""Child processes of the demo: started together, logged to files, all stopped on exit."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessGroup", "leftovers"]


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the demo dies, even by SIGKILL, so that a
    demo killed hard leaves no district running."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


@dataclass(slots=True)
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


class ProcessGroup:
    """``python -m nzd ...`` children, each in its own session (so Ctrl-C in the terminal reaches only
    the demo, which then stops them in order) and each a process group leader (so stopping it also
    stops anything it started, e.g. socat). Their pids go to ``pids`` in the log directory."""

    def __init__(self, *, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.children: list[_Child] = []
        self.pid_file = log_dir / "pids"
        self.pid_file.write_text("")

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "nzd", *args], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env={**os.environ, **self.env, **(env or {})},
                start_new_session=True, cwd=self.log_dir,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self.children.append(_Child(name, proc, log))
        with self.pid_file.open("a") as f:
            f.write(f"{proc.pid} {name}\n")

    @property
    def pids(self) -> list[int]:
        return [c.proc.pid for c in self.children]

    def exited(self) -> list[tuple[str, int, Path]]:
        return [(c.name, rc, c.log) for c in self.children if (rc := c.proc.poll()) is not None]

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def stop(self, *, timeout_s: float = 15.0) -> list[str]:
        """SIGTERM every child's process group, SIGKILL what is left after ``timeout_s``.

        Returns the names of children that had to be killed."""
        for c in self.children:
            if c.proc.poll() is None:
                self._signal_group(c.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        killed: list[str] = []
        for c in self.children:
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                killed.append(c.name)
                self._signal_group(c.proc.pid, signal.SIGKILL)
                c.proc.wait(timeout=5)
            # Whatever the child itself started and left behind in its group goes too.
            self._signal_group(c.proc.pid, signal.SIGKILL)
        self.children.clear()
        return killed


def leftovers(groups: list[int]) -> list[int]:
    """Pids of processes still in one of these process groups (Linux /proc; [] elsewhere)."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    wanted = set(groups)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) in wanted and fields[0] != "Z":
            found.append(int(entry.name))
    return found
