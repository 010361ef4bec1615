"""Item 15: InfluxDB's own error text (line protocol, the query, the schema) never reaches a
client: the API answers a generic problem with a reference, and logs the raw text.

The attack: a field-type conflict in the events measurement, so that InfluxDB refuses the
operator's next event with an error quoting the line it refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("store")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder) as server:
        yield server


def test_a_refused_write_answers_a_generic_problem_and_logs_the_raw_text(
        api: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    db = api.settings.influx_database
    now_ns = time.time_ns()
    # The same measurement and shard, with "document" as an integer: the API's string field conflicts.
    r = httpx.post(f"{api.influx.url}/write", params={"db": db, "precision": "ns"}, timeout=10,
                   content=f'nzd_events,kind=status,district=prato-est,site=* key="x",document=1i {now_ns}')
    assert r.status_code == 204, r.text
    with caplog.at_level(logging.WARNING, logger="api"), api.client(api.operator) as c:
        refused = c.put("/api/v1/district/water-severity", json={"water_severity": "high"})
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["detail"].startswith("the store refused the request (reference ")
    text = refused.text.lower()
    for leak in ("field type conflict", "nzd_events", "document", "influx", "water-severity\\", "kind="):
        assert leak not in text, leak
    ref = problem["detail"].split("reference ")[1].split(" ")[0]
    logged = [rec.getMessage() for rec in caplog.records if ref in rec.getMessage()]
    assert logged and "field type conflict" in logged[0]
