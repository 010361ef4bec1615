"""The operator sets the district's water-severity level (drought mode); nobody else may."""

from __future__ import annotations

from tests.api.conftest import ApiServer

URL = "/api/v1/district/water-severity"


def test_only_the_operator_sets_the_water_severity(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        before = c.get(URL).json()
        r = c.put(URL, json={"water_severity": "high"})
        assert r.status_code == 403 and "operator" in r.json()["detail"]
        assert c.get(URL).json() == before  # the refused request changed nothing
    with api_server.client() as public:
        assert public.put(URL, json={"water_severity": "high"}).status_code in (401, 403)
    with api_server.client(api_server.operator) as c:
        try:
            bad = c.put(URL, json={"water_severity": "extreme"})
            assert bad.status_code == 422
            r = c.put(URL, json={"water_severity": "high"})
            assert r.status_code == 200, r.text
            assert r.json()["water_severity"] == "high" and r.json()["source"] == "operator"
            assert r.json()["set_by"] == api_server.operator.name
            assert c.get(URL).json()["water_severity"] == "high"
        finally:  # the server is shared by the whole session: back to the registry's level
            assert c.put(URL, json={"water_severity": "normal"}).status_code == 200
        assert c.get(URL).json()["water_severity"] == "normal"
    with api_server.client(api_server.manager_a) as c:  # everyone reads the operator's level
        assert c.get(URL).json()["water_severity"] == "normal"
