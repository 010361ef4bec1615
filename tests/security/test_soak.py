"""The soak test (bounded, on loopback): 20,000 invented names while the district runs.

One gateway account publishes 20,000 readings, each with a new device and a new quantity,
while two other sites report normally and the API is polled. Before the per-site limits,
2,000 such messages made ``/latest`` answer 503 and 20,000 took influxd to 23.6 GB. Now:
influxd stays under 1 GiB, both routes keep answering 200, and the flood is visible to the
operator as dead letters and an alert. The p99 latencies are measured by benchmarks/soak.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.settings import ApiSettings
from coordinator.ingest.settings import IngestSettings
from tests.api.conftest import DISTRICT_FILE, User, _users_file, serve
from tests.coordinator.ingest.support import IngestProcess, wait_until
from tests.harness import InfluxServer, MosquittoServer
from tests.security.conftest import ACCOUNTS
from tests.security.soak import ATTACKER, Soak

NAMES = 20_000
GiB = 1024**3


@pytest.fixture
def api(broker: MosquittoServer, tmp_path: Path,
        influx_factory: Callable[..., InfluxServer]) -> Iterator[tuple[str, User, InfluxServer]]:
    influx = influx_factory()
    operator, _, _, _ = _users_file(tmp_path / "users.yaml")
    settings = ApiSettings(influx_url=influx.url, influx_database="soak", mqtt_url=broker.url,
                           mqtt_username="nzd-api", mqtt_password=SecretStr(ACCOUNTS["nzd-api"]),
                           district_file=DISTRICT_FILE, users_file=tmp_path / "users.yaml",
                           jwt_secret=SecretStr("s" * 40), log_json=True, access_log=False)
    server, thread, url = serve(settings)
    wait_until(lambda: httpx.get(f"{url}/healthz", timeout=2).json().get("mqtt") is True, timeout_s=30,
               what="the API to subscribe")
    yield url, operator, influx
    server.should_exit = True
    thread.join(timeout=10)


def test_a_flood_of_invented_names_is_contained(broker: MosquittoServer, ingest: Callable[..., IngestProcess],
                                                api: tuple[str, User, InfluxServer]) -> None:
    url, operator, influx = api
    proc = ingest(broker=broker, influx_url=influx.url, database="soak")
    assert influx.proc is not None
    soak = Soak(broker_port=broker.port, api_url=url, token=operator.token, influx_pid=influx.proc.pid,
                names=NAMES)
    limit = IngestSettings().ingest_site_max_devices  # the default, reached before the names' limit
    refused = NAMES - limit
    soak.run(before_s=2.0, after_s=2.0, until_deadletters=refused)

    assert soak.influx_rss_max < GiB, f"influxd reached {soak.influx_rss_max / 2**20:.0f} MiB"
    assert soak.errors == []  # every /latest and /district/flows answered 200, before and during
    assert all(soak.latencies_ms.get("during", {}).get(r) for r in ("latest", "district_flows"))
    assert proc.metric("nzd_ingest_limited_total") == refused
    letters = soak.deadletters()
    assert letters["total"] == refused
    assert letters["by_kind"] == {"limit exceeded": refused}
    alerts = [a["alert"] for a in soak.alerts()]
    assert [(a["site"], a["kind"]) for a in alerts if a["site"] == ATTACKER] == [  # type: ignore[index]
        (ATTACKER, "ingest_limit_devices")]
    # Only the admitted names reached the store.
    fields = influx.query('SHOW FIELD KEYS FROM "electricity_meter"', db="soak")
    names = [row[0] for row in fields["results"][0]["series"][0]["values"]]  # type: ignore[index]
    assert len([n for n in names if n.startswith("invented_")]) == limit
