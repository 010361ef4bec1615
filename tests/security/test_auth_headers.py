"""Item 13: an Authorization header that is not ``Bearer <token>`` is 401, never the public view;
the public does not learn the operator's user name from the water-severity level."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("headers")
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder) as server:
        yield server


BASIC = "Basic " + base64.b64encode(b"operator:wrong").decode()


@pytest.mark.parametrize("header", [BASIC, "Bearer", "bearer", "Token abc", "Digest x=1", "garbage"])
@pytest.mark.parametrize("path", ["/api/v1/district", "/api/v1/district/flows", "/api/v1/auth/me",
                                  "/api/v1/live"])
def test_malformed_credentials_are_refused_not_downgraded_to_public(api: ApiServer, header: str,
                                                                    path: str) -> None:
    r = httpx.get(api.url + path, headers={"Authorization": header}, timeout=10)
    assert r.status_code == 401, (header, path, r.status_code)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_no_header_is_still_the_public(api: ApiServer) -> None:
    assert httpx.get(api.url + "/api/v1/auth/me", timeout=10).json()["role"] == "public"


def test_the_public_does_not_see_who_set_the_water_severity(api: ApiServer) -> None:
    url = "/api/v1/district/water-severity"
    with api.client(api.operator) as c:
        assert c.put(url, json={"water_severity": "high"}).status_code == 200
        assert c.get(url).json()["set_by"] == api.operator.name
    with api.client() as public:
        shown = public.get(url).json()
    assert shown["water_severity"] == "high" and shown["source"] == "operator"
    assert shown["set_by"] is None
