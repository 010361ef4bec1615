"""Fixtures of the security tests: a real Mosquitto with the shipped config and ACL, accounts.

The broker gets the shipped ACL and the security lines of the shipped ``mosquitto.conf``
(``use_username_as_clientid``...), on a free loopback port with a temporary password file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.coordinator.ingest.support import IngestProcess
from tests.harness import MosquittoServer, require_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
DISTRICT = "prato"
ACCOUNTS = {
    "prato/site-a": "pw-a-7f3k",
    "prato/site-b": "pw-b-9q2m",
    # Sites of the example registry (firmware_configs/examples/district.yaml).
    "prato-est/tintoria-rossi": "pw-rossi-6h2s",
    "prato-est/logistica-prato": "pw-logi-1m7q",
    "prato-est/lanificio-bianchi": "pw-lani-0z4e",
    "nzd-ingest-1": "pw-ingest1-2v6n",
    "nzd-ingest-2": "pw-ingest2-8c1d",
    "nzd-coordinator": "pw-coord-4x8z",
    "nzd-api": "pw-api-5t9w",
}
#: Settings of the shipped mosquitto.conf that decide who may do what (not paths, ports, logs).
_SECURITY_KEYS = ("per_listener_settings", "allow_anonymous", "use_username_as_clientid",
                  "allow_zero_length_clientid")


def shipped_security_lines() -> list[str]:
    lines = []
    for raw in (DEPLOY / "mosquitto.conf").read_text().splitlines():
        words = raw.split()
        if words and words[0] in _SECURITY_KEYS:
            lines.append(raw.strip())
    return lines


def make_broker_files() -> Path:
    """A world-readable folder with ``passwd`` (ACCOUNTS) and a copy of the shipped ``nzd.acl``
    (a root-started Mosquitto reads them as the mosquitto user)."""
    folder = Path(tempfile.mkdtemp(prefix="nzd-sec-"))
    folder.chmod(0o755)
    path = folder / "passwd"
    path.touch()
    passwd = require_binary("mosquitto_passwd", "mosquitto")
    for user, password in ACCOUNTS.items():
        subprocess.run([passwd, "-b", str(path), user, password], check=True, capture_output=True)
    path.chmod(0o644)
    shutil.copyfile(DEPLOY / "nzd.acl", folder / "nzd.acl")
    (folder / "nzd.acl").chmod(0o644)
    return folder


def secured_broker_args(folder: Path) -> dict[str, Any]:
    """``MosquittoServer`` arguments: the shipped ACL and the shipped security settings."""
    return {"password_file": folder / "passwd", "acl_file": folder / "nzd.acl",
            "extra": [*shipped_security_lines(), "connection_messages true", "log_type notice"]}


@pytest.fixture(scope="module")
def broker_files() -> Iterator[Path]:
    folder = make_broker_files()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def broker(mosquitto_factory: Callable[..., MosquittoServer], broker_files: Path) -> MosquittoServer:
    """Mosquitto with the shipped ACL and the shipped security settings."""
    return mosquitto_factory(**secured_broker_args(broker_files))


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[Callable[..., IngestProcess]]:
    """``nzd ingest`` processes logged in as ``nzd-ingest-N``; stopped when the test ends."""
    procs: list[IngestProcess] = []

    def make(*, broker: MosquittoServer, influx_url: str, database: str, account: str = "nzd-ingest-1",
             env: dict[str, str] | None = None, **extra: str) -> IngestProcess:
        p = IngestProcess(mqtt_port=broker.port, influx_url=influx_url, database=database,
                          client_id=account, group="ingest", log_path=tmp_path / f"{account}.log", **extra)
        p.env.update({"NZD_MQTT_USERNAME": account, "NZD_MQTT_PASSWORD": ACCOUNTS[account], **(env or {})})
        procs.append(p)
        return p.start()

    yield make
    for p in procs:
        p.stop()
