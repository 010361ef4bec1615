"""Secrets never reach a log: not the InfluxDB password, not the broker password.

The attack (anyone who can read the logs: a log collector, a support engineer): InfluxDB 1.x
credentials travelled as ``u=&p=`` in every request URL, and httpx logs each URL at INFO;
ingest logged ``NZD_MQTT_URL`` with its ``user:pass``. Now the credentials go in a Basic
authentication header and every service's log handler redacts URL passwords, credential
parameters and the service's own secret values.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from api.logs import configure_logging as api_logging
from gateway.service import configure_logging as gateway_logging
from nzd.logs import REDACTED, RedactingFilter, redact
from nzd.logs import configure_logging as nzd_logging
from nzd.topics import telemetry_topic
from tests.coordinator.ingest.support import IngestProcess, wait_until
from tests.gateway.service.support import publish
from tests.harness import InfluxServer, MosquittoServer
from tests.security.conftest import ACCOUNTS, DISTRICT

INFLUX_PASSWORD = "Influx-s3cret-Pw-42"


def test_redact_removes_url_passwords_parameters_and_known_values() -> None:
    text = ("connect mqtt://nzd-ingest-1:hunter22@broker:1883 and "
            "http://h:8086/query?db=nzd&u=nzd&p=topsecret&q=SELECT and token tok-abcdef here")
    out = redact(text, ["tok-abcdef"])
    assert "hunter22" not in out and "topsecret" not in out and "tok-abcdef" not in out
    assert f"mqtt://nzd-ingest-1:{REDACTED}@broker:1883" in out and "&u=nzd&p=***&q=SELECT" in out


def test_the_filter_redacts_arguments_exceptions_and_fields(caplog: object) -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "url %s", ("https://a:pw1234@h/",), None)
    try:
        raise RuntimeError("cannot reach http://x/?password=pw5678")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    record.fields = {"url": "http://u:pw9999@h", "n": 3}
    assert RedactingFilter(["never-shown"]).filter(record)
    shown = record.getMessage() + (record.exc_text or "") + str(record.fields)
    for secret in ("pw1234", "pw5678", "pw9999"):
        assert secret not in shown
    assert record.fields["n"] == 3  # type: ignore[attr-defined]


def influx_with_auth(factory: Callable[..., InfluxServer]) -> InfluxServer:
    server = factory(auth=True)
    httpx.post(f"{server.url}/query", timeout=10, params={
        "q": f"CREATE USER nzd WITH PASSWORD '{INFLUX_PASSWORD}' WITH ALL PRIVILEGES"}).raise_for_status()
    return server


def test_ingest_logs_neither_the_influx_nor_the_mqtt_password(
        broker: MosquittoServer, influx_factory: Callable[..., InfluxServer],
        ingest: Callable[..., IngestProcess], tmp_path: Path) -> None:
    influx = influx_with_auth(influx_factory)
    database = f"sec_logs_{uuid.uuid4().hex[:8]}"
    mqtt_password = ACCOUNTS["nzd-ingest-1"]
    proc = ingest(broker=broker, influx_url=influx.url, database=database, env={
        # The broker password in the URL too, as an installer may well write it.
        "NZD_MQTT_URL": f"mqtt://nzd-ingest-1:{mqtt_password}@127.0.0.1:{broker.port}",
        "NZD_MQTT_PASSWORD": "", "NZD_INFLUX_USERNAME": "nzd", "NZD_INFLUX_PASSWORD": INFLUX_PASSWORD,
        "NZD_LOG_LEVEL": "DEBUG", "NZD_LOG_JSON": "true"})
    site = "site-a"
    now = time.time_ns() // 1_000_000
    publish(broker.port, telemetry_topic(district=DISTRICT, site=site, device="meter"), orjson.dumps(
        {"ts": now, "seq": 1, "device": "meter", "kind": "electricity_meter", "values": {"power_w": 1.0}}),
        username=f"{DISTRICT}/{site}", password=ACCOUNTS[f"{DISTRICT}/{site}"])
    wait_until(lambda: proc.metric("nzd_ingest_written_total") >= 1, timeout_s=30,
               what=f"the reading to be stored; log:\n{proc.log()}")
    proc.stop()
    log = proc.log_path.read_text()
    assert "HTTP Request: POST" in log  # httpx did log its URLs...
    assert "/write?db=" in log
    assert INFLUX_PASSWORD not in log  # ...without the password in them
    assert mqtt_password not in log
    assert "nzd-ingest-1:***@" in log  # the start line shows the broker URL, redacted
    # And the store really authenticated: the reading is there for the right account only.
    r = httpx.post(f"{influx.url}/query", timeout=10, auth=("nzd", INFLUX_PASSWORD),
                   params={"db": database, "q": 'SELECT count("power_w") FROM "electricity_meter"'})
    assert r.json()["results"][0]["series"][0]["values"][0][1] == 1


@pytest.mark.parametrize("configure", [gateway_logging, api_logging, nzd_logging])
def test_every_services_log_setup_redacts_its_secrets(configure: Callable[..., None],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("INFO", json_logs=True, secrets=["gw-secret-77"])
        logging.getLogger("httpx").info("HTTP Request: POST http://h/write?db=x&u=nzd&p=pw-in-url-1")
        logging.getLogger("t").warning("broker mqtt://gw:gw-secret-77@host refused", extra={
            "fields": {"password": "gw-secret-77"}})
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "gw-secret-77" not in err and "pw-in-url-1" not in err
    assert err.count("***") >= 3
