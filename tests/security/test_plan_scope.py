"""Item 7: a site manager's plan documents hold nothing of other firms: no other site's stale,
manual or excluded assets, and no free text (``message``, ``reason``) that may name them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from nzd.store import Event, EventKind
from tests.api.conftest import DISTRICT, SITE_A, ApiServer, write
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=tmp_path_factory.mktemp("plans")) as server:
        yield server


def test_a_site_manager_sees_only_their_sites_entries_of_a_plan(api: ApiServer) -> None:
    now = int(time.time() * 1000)
    doc = {"plan_id": "plan-sec", "status": "safe_mode", "start_ms": now, "step_minutes": 15,
           "message": "no data from logistica-prato/main-meter", "reason": "logistica-prato is offline",
           "sites": {SITE_A: {"grid_import_kw": [1.0]}, "logistica-prato": {"grid_import_kw": [2.0]}},
           "stale": [f"{SITE_A}/dye-batch", "depuratore/community-battery"],
           "manual": ["depuratore/community-battery", f"{SITE_A}/dye-batch"],
           "excluded": ["logistica-prato/chargers"], "targets": [], "assets": []}
    write(api, events=[Event(EventKind.PLAN, DISTRICT, "*", now, "plan-sec", doc)])
    with api.client(api.manager_a) as c:
        listed = c.get("/api/v1/plans", params={"limit": 1}).json()[0]["document"]
        own = c.get(f"/api/v1/sites/{SITE_A}/plan").json()["document"]
    for plan in (listed, own):
        assert plan["stale"] == [f"{SITE_A}/dye-batch"]
        assert plan["manual"] == [f"{SITE_A}/dye-batch"]
        assert plan["excluded"] == []
        assert list(plan["sites"]) == [SITE_A]
        assert "message" not in plan and "reason" not in plan
        assert "logistica" not in str(plan) and "depuratore" not in str(plan)
        assert plan["status"] == "safe_mode"
    with api.client(api.operator) as c:
        assert c.get("/api/v1/plans", params={"limit": 1}).json()[0]["document"] == doc
