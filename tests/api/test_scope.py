"""Every route that takes a site enforces the caller's scope; the public never gets a firm's data."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import SITE_A, SITE_B, SITES, ApiServer

_BODIES = {
    "/api/v1/sites/{site}/setpoints": {"asset": "community-battery", "quantity": "battery_power_setpoint_w",
                                       "value": -1000.0, "valid_minutes": 5},
}


def _site_routes(server: ApiServer) -> list[tuple[str, str]]:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    routes = [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops
              if "{site}" in path]
    assert len(routes) >= 12, routes
    return routes


def _call(client: httpx.Client, method: str, template: str, site: str) -> httpx.Response:
    path = template.replace("{site}", site).replace("{alert_id}", "leak-rossi-1")
    if method == "GET":
        params = {"quantities": "active_power_w", "interval": "1h"} if path.endswith("/history") else None
        return client.get(path, params=params)
    return client.request(method, path, json=_BODIES.get(template))


def test_a_site_manager_gets_403_on_another_site_for_every_site_route(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        for method, template in _site_routes(api_server):
            r = _call(c, method, template, SITE_B)
            assert r.status_code == 403, (method, template, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert SITE_B in r.json()["detail"]
            # ... and the same route on their own site is not refused for scope.
            own = _call(c, method, template, SITE_A)
            if template.endswith("/setpoints") and method == "POST":
                assert own.status_code == 403 and "operator" in own.json()["detail"]
            else:
                assert own.status_code != 403, (method, template, own.text)


@pytest.mark.parametrize("who", ["anonymous", "public token"])
def test_the_public_never_receives_per_site_data(api_server: ApiServer, who: str) -> None:
    token = api_server.public_token if who == "public token" else None
    with api_server.client(token=token) as c:
        for method, template in _site_routes(api_server):
            for site in SITES:
                r = _call(c, method, template, site)
                assert r.status_code == 403, (method, template, r.text)
                assert "district aggregates" in r.json()["detail"] or "log in" in r.json()["detail"]
        district = c.get("/api/v1/district").json()
        assert district["site_count"] == 4 and district["sites"] == []
        assert c.get("/api/v1/sites").json() == []
        assert c.get("/api/v1/alerts").json() == []
        assert c.get("/api/v1/plans").status_code == 403
        assert c.get("/api/v1/status").json()["gateways"] == []
        assert c.get("/api/v1/auth/me").json()["sites"] == []
        flows = c.get("/api/v1/district/flows").json()
        assert flows["grid_w"] > 0 and "site" not in flows
        # Only one firm has a registered PV inverter, battery and water meters: no "totals" of those.
        assert flows["pv_w"] is None and flows["battery_w"] is None and flows["water_intake_m3h"] is None


def test_a_site_manager_sees_only_their_sites_in_lists(api_server: ApiServer) -> None:
    with api_server.client(api_server.manager_a) as c:
        assert [s["id"] for s in c.get("/api/v1/sites").json()] == [SITE_A]
        assert [s["id"] for s in c.get("/api/v1/district").json()["sites"]] == [SITE_A]
        alerts = c.get("/api/v1/alerts").json()
        assert alerts and {a["alert"]["site"] for a in alerts} == {SITE_A}
        plan = c.get("/api/v1/plans").json()[0]["document"]
        assert set(plan["sites"]) == {SITE_A}
        assert all(a["site"] == SITE_A for a in plan["assets"] + plan["targets"])
        assert plan["limit_breaches"] == []  # the depuratore's breach is not Rossi's business
    with api_server.client(api_server.operator) as c:
        assert [b["site"] for b in c.get("/api/v1/plans").json()[0]["document"]["limit_breaches"]] == [
            "depuratore"]
        assert len(c.get("/api/v1/sites").json()) == 4
        assert {a["alert"]["site"] for a in c.get("/api/v1/alerts").json()} == {SITE_A, SITE_B}


def test_bad_credentials_are_refused_not_downgraded(api_server: ApiServer) -> None:
    for token in ["nzd_rossi_" + "x" * 40, "not-a-jwt", "nzd_nobody_" + "y" * 40]:
        with api_server.client(token=token) as c:
            r = c.get("/api/v1/district")
            assert r.status_code == 401
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["title"] == "Not authenticated"


def test_login_issues_a_jwt_that_carries_the_scope(api_server: ApiServer) -> None:
    m = api_server.manager_a
    with api_server.client() as c:
        bad = c.post("/api/v1/auth/login", json={"username": m.name, "password": "wrong"})
        assert bad.status_code == 401 and bad.json()["detail"] == "unknown user or wrong password"
        ok = c.post("/api/v1/auth/login", json={"username": m.name, "password": m.password}).json()
        assert ok["role"] == "site_manager" and ok["sites"] == [SITE_A] and ok["expires_in_s"] == 900
    with api_server.client(token=ok["access_token"]) as c:
        assert c.get("/api/v1/auth/me").json() == {"user": "rossi", "role": "site_manager", "sites": [SITE_A]}
        assert c.get(f"/api/v1/sites/{SITE_A}/latest").status_code == 200
        assert c.get(f"/api/v1/sites/{SITE_B}/latest").status_code == 403


def test_unknown_site_is_404_for_the_operator_and_403_for_a_site_manager(api_server: ApiServer) -> None:
    with api_server.client(api_server.operator) as c:
        r = c.get("/api/v1/sites/nowhere/latest")
        assert r.status_code == 404 and r.json()["detail"] == "no site 'nowhere' in district 'prato-est'"
    with api_server.client(api_server.manager_a) as c:
        assert c.get("/api/v1/sites/nowhere/latest").status_code == 403
