"""Item 10: the API refuses manual setpoints outside the asset's registry limits or with the
wrong quantity (422 naming the limit), before anything is published or stored.

Before, 1e12 W, -1e308 W and a pump quantity for a battery were accepted (202) and only the
gateway's own config stopped them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from nzd.messages import Setpoint, decode
from tests.api.conftest import ApiServer
from tests.gateway.service.support import Subscriber, wait_until
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

URL = "/api/v1/sites/depuratore/setpoints"


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("limits")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder) as server:
        yield server


@pytest.mark.parametrize(("body", "named"), [
    ({"asset": "community-battery", "quantity": "battery_power_setpoint_w", "value": 1e12},
     "-200000..200000 (batteries[community-battery].charge_kw/discharge_kw"),
    ({"asset": "community-battery", "quantity": "battery_power_setpoint_w", "value": -1e308},
     "-200000..200000"),
    ({"asset": "community-battery", "quantity": "battery_power_setpoint_w", "value": 200_001},
     "-200000..200000"),
    ({"asset": "community-battery", "quantity": "pump_flow_setpoint_m3h", "value": 10},
     "takes battery_power_setpoint_w"),
    ({"asset": "recycled-pump", "quantity": "pump_flow_setpoint_m3h", "value": 61},
     "0..60 (tanks[recycled-tank].pump_max_m3h"),
])
def test_out_of_limit_or_wrong_quantity_is_refused_and_nothing_is_published(
        api: ApiServer, body: dict[str, object], named: str) -> None:
    watcher = Subscriber(port=api.mosquitto.port, client_id=f"sec-limits-{time.monotonic_ns()}",
                         topics=["nzd/v1/prato-est/depuratore/setpoint/+"])
    try:
        with api.client(api.operator) as c:
            before = len(c.get(URL).json())
            r = c.post(URL, json=body)
            assert r.status_code == 422, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert named in r.json()["detail"]
            # A valid setpoint after it is the marker: it arrives, the refused one never did.
            ok = c.post(URL, json={"asset": "community-battery", "quantity": "battery_power_setpoint_w",
                                   "value": -200_000})
            assert ok.status_code == 202, ok.text
            wait_until(lambda: len(watcher.snapshot()) >= 1, timeout_s=10, what="the valid setpoint")
            time.sleep(0.3)
            sent = [decode(p, Setpoint) for _, p, _ in watcher.snapshot()]
            assert [sp.value for sp in sent] == [-200_000]
            assert len(c.get(URL).json()) == before + 1
    finally:
        watcher.close()
