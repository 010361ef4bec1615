"""Dead letters reach the operator, and only the operator.

Before: ingest published what it refused on a topic no account could read, so rejected
payloads were effectively discarded. Now the ACL lets the API's account (and no gateway) read
the topic, the API keeps the recent ones and serves them to the operator
(``/api/v1/deadletters``, and a panel in the dashboard's alerts view); site managers and the
public get 403.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pydantic import SecretStr

from api.settings import ApiSettings
from nzd.topics import DEADLETTER_TOPIC, telemetry_topic
from tests.api.conftest import DISTRICT_FILE, User, _users_file, serve
from tests.api.test_dashboard import CHROMIUM_ARGS, _page
from tests.coordinator.ingest.support import IngestProcess, wait_until
from tests.gateway.service.support import Subscriber, publish
from tests.harness import InfluxServer, MosquittoServer
from tests.security.conftest import ACCOUNTS

GATEWAY = "prato-est/tintoria-rossi"


@pytest.fixture
def api(broker: MosquittoServer, influxdb: InfluxServer,
        tmp_path: Path) -> Iterator[tuple[str, User, User, str]]:
    operator, manager, public_token, _ = _users_file(tmp_path / "users.yaml")
    settings = ApiSettings(influx_url=influxdb.url, influx_database=f"sec_dl_{uuid.uuid4().hex[:8]}",
                           mqtt_url=broker.url, mqtt_username="nzd-api",
                           mqtt_password=SecretStr(ACCOUNTS["nzd-api"]), district_file=DISTRICT_FILE,
                           users_file=tmp_path / "users.yaml", jwt_secret=SecretStr("t" * 40), log_json=True)
    server, thread, url = serve(settings)
    wait_until(lambda: httpx.get(f"{url}/healthz", timeout=2).json().get("mqtt") is True, timeout_s=30,
               what="the API to subscribe")
    yield url, operator, manager, public_token
    server.should_exit = True
    thread.join(timeout=10)


def get(url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{url}/api/v1/deadletters", headers=headers, timeout=10)


def send(broker: MosquittoServer, payload: bytes, device: str = "main-meter") -> None:
    publish(broker.port, telemetry_topic(district="prato-est", site="tintoria-rossi", device=device),
            payload, username=GATEWAY, password=ACCOUNTS[GATEWAY])


def test_the_operator_reads_dead_letters_and_no_one_else_does(
        broker: MosquittoServer, influxdb: InfluxServer, ingest: Callable[..., IngestProcess],
        api: tuple[str, User, User, str]) -> None:
    url, operator, manager, public_token = api
    ingest(broker=broker, influx_url=influxdb.url, database=f"sec_dl_{uuid.uuid4().hex[:8]}")
    # A gateway (another site's: this one's account is busy publishing) and the coordinator may
    # not read the dead-letter topic.
    spies = [Subscriber(port=broker.port, client_id="x", username=u, password=ACCOUNTS[u],
                        topics=[DEADLETTER_TOPIC]) for u in ("prato/site-a", "nzd-coordinator")]
    try:
        send(broker, b"{not json")
        now = time.time_ns() // 1_000_000
        send(broker, orjson.dumps({"ts": now, "seq": 1, "device": "main-meter",
                                   "kind": "electricity_meter", "values": {"site": 1.0}}))
        wait_until(lambda: get(url, operator.token).json()["total"] >= 2, timeout_s=30,
                   what="two dead letters at the API")
        doc = get(url, operator.token).json()
        assert doc["total"] == 2 and doc["by_kind"] == {"invalid message": 2}
        newest, oldest = doc["recent"]
        assert oldest["payload"] == "{not json" and "not valid JSON" in oldest["reason"]
        assert "reserved" in newest["reason"] and newest["worker"] == "nzd-ingest-1"
        assert newest["topic"] == "nzd/v1/prato-est/tintoria-rossi/main-meter/telemetry"
        time.sleep(0.5)
        assert [s.snapshot() for s in spies] == [[], []]
    finally:
        for s in spies:
            s.close()
    assert get(url, manager.token).status_code == 403  # a site manager, even of that very site
    assert get(url, public_token).status_code == 403
    assert get(url, None).status_code in (401, 403)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _login(page: Page, url: str, user: User) -> None:
    page.goto(url + "/")
    page.click("#login-button")
    page.fill("#login-username", user.name)
    page.fill("#login-password", user.password)
    page.click("#login-submit")
    page.click("#tabs [data-view=alerts]")


def test_the_dashboard_shows_dead_letters_to_the_operator_only(
        broker: MosquittoServer, influxdb: InfluxServer, ingest: Callable[..., IngestProcess],
        api: tuple[str, User, User, str], chromium: Browser) -> None:
    url, operator, manager, _ = api
    ingest(broker=broker, influx_url=influxdb.url, database=f"sec_dl_{uuid.uuid4().hex[:8]}")
    send(broker, b"not even json")
    wait_until(lambda: get(url, operator.token).json()["total"] >= 1, timeout_s=30, what="a dead letter")
    page, errors = _page(chromium)
    _login(page, url, operator)
    expect(page.locator("#deadletters-card")).to_be_visible()
    expect(page.locator("#deadletters-summary")).to_contain_text("invalid message: 1")
    expect(page.locator("#deadletters-table")).to_contain_text("not valid JSON")
    expect(page.locator("#deadletters-table")).to_contain_text("nzd/v1/prato-est/tintoria-rossi/main-meter")
    assert errors == []
    page.close()
    page, errors = _page(chromium)
    _login(page, url, manager)
    expect(page.locator("#alerts-table")).to_be_visible()
    expect(page.locator("#deadletters-card")).to_be_hidden()
    assert errors == []
    page.close()
