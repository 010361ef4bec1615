"""A real API (uvicorn on a thread, real InfluxDB and Mosquitto) with per-test settings.

Users, passwords and tokens are generated for the tests (demo only).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from api.settings import ApiSettings
from nzd.settings import ServiceSettings
from tests.api.conftest import DISTRICT_FILE, ApiServer, _seed, _users_file, serve
from tests.harness import InfluxServer, MosquittoServer

__all__ = ["agree_target", "running_api"]


@contextlib.contextmanager
def running_api(*, influx: InfluxServer, mosquitto: MosquittoServer, folder: Path, seed: bool = False,
                wait_mqtt: bool = True, **overrides: Any) -> Iterator[ApiServer]:
    """An API on its own database; ``overrides`` are ApiSettings fields."""
    users_path = folder / "users.yaml"
    operator, manager, pub_token, authority = _users_file(users_path)
    users_path.chmod(0o600)
    database = "sec_" + secrets.token_hex(4)
    fields: dict[str, Any] = {
        "influx_url": influx.url, "influx_database": database, "mqtt_url": mosquitto.url,
        "district_file": DISTRICT_FILE, "users_file": users_path,
        "jwt_secret": SecretStr("demo-only-" + secrets.token_hex(16)), "live_queue_size": 64,
        "log_json": True, **overrides}
    settings = ApiSettings(**fields)
    if seed:
        _seed(ServiceSettings(influx_url=influx.url, influx_database=database))
    server, thread, url = serve(settings)
    try:
        deadline = time.monotonic() + 30
        while wait_mqtt and time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).json().get("mqtt"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.05)
        else:
            if wait_mqtt:
                raise RuntimeError("the API server did not become healthy")
        yield ApiServer(url, settings, operator, manager, pub_token, influx, mosquitto, authority)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def agree_target(api: ApiServer, metric: str, target: dict[str, Any]) -> dict[str, Any]:
    """The authority proposes ``target`` and the operator agrees to it: from then on it is the
    district's target (docs/reports.md). The agreed proposal."""
    assert api.authority is not None
    with api.client(api.authority) as c:
        r = c.put(f"/api/v1/district/targets/{metric}", json=target)
        assert r.status_code == 202, r.text
    with api.client(api.operator) as c:
        r = c.post(f"/api/v1/district/targets/proposals/{r.json()['id']}/agree")
        assert r.status_code == 200, r.text
    agreed: dict[str, Any] = r.json()
    return agreed
