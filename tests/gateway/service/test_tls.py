"""The gateway connects over TLS with a CA and a client certificate (Mosquitto requires one)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.service import GatewayService
from nzd.config import load_gateway_config
from nzd.messages import GatewayState
from tests.gateway.service.support import ModbusThread, Subscriber, until, write_gateway_config
from tests.harness import MosquittoServer, require_binary


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([require_binary("openssl", "openssl"), *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki() -> Iterator[Path]:
    """A throw-away CA, a broker certificate for 127.0.0.1 and a client certificate."""
    folder = Path(tempfile.mkdtemp(prefix="nzd-pki-"))
    folder.chmod(0o755)  # a root-started Mosquitto reads these as the mosquitto user
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=nzd test CA", cwd=folder)
    for name, extra in (("broker", ["-addext", "subjectAltName=IP:127.0.0.1"]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN=nzd test {name}", *extra, cwd=folder)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-copy_extensions", "copy",
                 cwd=folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def test_gateway_publishes_over_tls_with_a_client_certificate(
        tmp_path: Path, pki: Path, mosquitto_factory: Callable[..., MosquittoServer]) -> None:
    broker = mosquitto_factory(extra=[f"cafile {pki / 'ca.crt'}", f"certfile {pki / 'broker.crt'}",
                                      f"keyfile {pki / 'broker.key'}", "require_certificate true"])
    modbus = ModbusThread().start()
    tls = {"ca_file": str(pki / "ca.crt"), "cert_file": str(pki / "client.crt"),
           "key_file": str(pki / "client.key")}
    cfg = load_gateway_config(write_gateway_config(tmp_path, broker_port=broker.port, modbus_port=modbus.port,
                                                   meters=1, extra_broker={"tls": tls}))

    # The test's own subscriber goes through the same TLS listener.
    sub = await asyncio.to_thread(Subscriber, port=broker.port, topics=["nzd/v1/#"], tls=tls)
    service = GatewayService(config=cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await until(lambda: len(sub.telemetry()) >= 2, timeout_s=20, what="telemetry over TLS")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        await asyncio.to_thread(sub.close)
        modbus.close()
    assert any(s.state is GatewayState.ONLINE for s in sub.statuses())
