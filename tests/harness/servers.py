"""Start and stop real Mosquitto and InfluxDB servers on free ports."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from nzd.ports import free_port, free_ports

__all__ = [
    "InfluxServer",
    "MissingServer",
    "MosquittoServer",
    "free_port",
    "free_ports",
    "require_binary",
    "wait_for_port",
]


class MissingServer(RuntimeError):
    """A server binary the tests need is not installed."""


_SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def require_binary(name: str, package: str) -> str:
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in _SEARCH if (Path(d) / name).exists()), None
    )
    if found is None:
        raise MissingServer(
            f"{name} is not installed; install it with: sudo apt-get install -y {package}"
        )
    return found


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s} s")


class _Process:
    name = "server"

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"nzd-{self.name}-"))
        self.log_path = self.workdir / "server.log"

    def _spawn(self, argv: list[str]) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, start_new_session=True)
        log.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no chance to save or flush anything."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class MosquittoServer(_Process):
    """A real Mosquitto on 127.0.0.1:``port``.

    ``password_file`` and ``acl_file`` switch off anonymous access; ``extra``
    lines are appended to the config (e.g. ``max_queued_messages``).
    """

    name = "mosquitto"

    def __init__(self, *, port: int | None = None, password_file: Path | None = None,
                 acl_file: Path | None = None, extra: list[str] | None = None) -> None:
        self.binary = require_binary("mosquitto", "mosquitto mosquitto-clients")
        super().__init__()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.password_file = password_file
        self.acl_file = acl_file
        self.extra = extra or []
        (self.workdir / "data").mkdir()
        self._writable_by_broker()

    def _writable_by_broker(self) -> None:
        """Started as root, Mosquitto drops to the ``mosquitto`` user: its data folder must be that
        user's, or no broker of the tests would ever save anything across a restart."""
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam("mosquitto")
        except KeyError:
            return  # no such user: Mosquitto stays root
        self.workdir.chmod(0o755)  # mkdtemp makes it 0700
        os.chown(self.workdir / "data", user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> Path:
        lines = [
            f"listener {self.port} {self.host}",
            "persistence true",
            f"persistence_location {self.workdir / 'data'}/",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "max_queued_messages 0",
            "max_inflight_messages 0",
        ]
        if self.password_file is None:
            lines.append("allow_anonymous true")
        else:
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        if self.acl_file is not None:
            lines.append(f"acl_file {self.acl_file}")
        lines += self.extra
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> MosquittoServer:
        self._spawn([self.binary, "-c", str(self._config())])
        try:
            wait_for_port(self.port)
        except TimeoutError as exc:
            raise RuntimeError(f"mosquitto did not start: {self.log()}") from exc
        return self


class InfluxServer(_Process):
    """A real InfluxDB 1.x (``influxd``) on 127.0.0.1:``port`` with its own data dir."""

    name = "influxd"

    def __init__(self, *, port: int | None = None, auth: bool = False) -> None:
        self.binary = require_binary("influxd", "influxdb")
        super().__init__()
        self.host = "127.0.0.1"
        # Both at once (two picks in a row could be the same port); the RPC port never the given one.
        if port:
            self.port, self.rpc_port = port, free_port(avoid={port})
        else:
            self.port, self.rpc_port = free_ports(2)
        self.auth = auth

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _config(self) -> Path:
        d = self.workdir
        text = f"""
reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
[coordinator]
  write-timeout = "30s"
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {str(self.auth).lower()}
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = true
  run-interval = "1s"
[monitor]
  store-enabled = false
[logging]
  level = "warn"
"""
        path = d / "influxdb.conf"
        path.write_text(text)
        return path

    def start(self) -> InfluxServer:
        self._spawn([self.binary, "-config", str(self._config())])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"influxd exited: {self.log()}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"influxd did not answer /ping: {self.log()}")

    def query(self, q: str, *, db: str | None = None) -> dict[str, object]:
        params = {"q": q}
        if db:
            params["db"] = db
        r = httpx.post(f"{self.url}/query", params=params, timeout=30)
        r.raise_for_status()
        result: dict[str, object] = r.json()
        return result
