"""A pseudo-terminal pair from socat: the simulator serves RTU on one end, a master opens the other."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

__all__ = ["PtyPair", "open_pty_pair"]

_PTY = re.compile(r"PTY is (\S+)")


@dataclass
class PtyPair:
    server_port: str
    """The end the simulator serves on."""
    client_port: str
    """The end a gateway (or mbpoll) opens."""
    process: subprocess.Popen[bytes]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def open_pty_pair(*, timeout_s: float = 10.0) -> PtyPair:
    """Start ``socat -d -d pty,raw,echo=0 pty,raw,echo=0`` and return both ends."""
    socat = shutil.which("socat") or next(
        (p for p in ("/usr/bin/socat", "/bin/socat") if os.path.exists(p)), None)
    if socat is None:
        raise RuntimeError("socat is not installed; install it with: sudo apt-get install -y socat")
    proc = subprocess.Popen([socat, "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stderr is not None
    names: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(names) < 2 and time.monotonic() < deadline:
        line = proc.stderr.readline().decode(errors="replace")
        if not line:
            if proc.poll() is not None:
                break
            continue
        m = _PTY.search(line)
        if m:
            names.append(m.group(1))
    if len(names) < 2:
        proc.kill()
        raise RuntimeError("socat did not report two pseudo-terminals")
    # socat keeps logging to stderr; drain it so that it never blocks on a full pipe
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return PtyPair(server_port=names[0], client_port=names[1], process=proc)


def _drain(proc: subprocess.Popen[bytes]) -> None:
    if proc.stderr is not None:
        for _ in iter(proc.stderr.readline, b""):
            pass
