"""The authority (the municipality) agrees the district's targets with the operator and reads
district figures, never one firm's: every route that names a site refuses it, as it refuses the
public, and the target routes show district figures only (real API, real InfluxDB)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from tests.api.conftest import SITE_A, ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

_CO2 = {"baseline_year": 2025, "baseline_value": 400.0, "target_year": 2030, "target_value": 240.0,
        "note": "-40 % by 2030"}


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=tmp_path_factory.mktemp("authority"),
                     seed=True) as server:
        yield server


def _site_paths(api: ApiServer) -> list[str]:
    with api.client(api.operator) as c:
        paths = c.get("/openapi.json").json()["paths"]
    out = []
    for path, ops in paths.items():
        if "{site}" in path and "get" in ops:
            out.append(re.sub(r"\{[a-z_]+\}", lambda m: SITE_A if m.group(0) == "{site}" else "x", path))
    return out


def test_the_authority_and_the_public_read_no_single_firm_through_any_route(api: ApiServer) -> None:
    assert api.authority is not None
    site_paths = _site_paths(api)
    assert len(site_paths) >= 8  # kpis, water, readings, statement, ... of one site
    for who in (api.client(api.authority), api.client()):
        with who as c:
            for path in site_paths:
                r = c.get(path)
                assert r.status_code == 403, (path, r.status_code)
            assert c.get("/api/v1/plans").status_code == 403
            assert c.get("/api/v1/district/water/leaks").status_code == 403
            assert c.get("/api/v1/alerts").json() == []
            assert c.get("/api/v1/district").json()["sites"] == []
            # The target routes are district-wide: nothing in them names a firm.
            for path in ("/api/v1/district/targets", "/api/v1/district/targets/history",
                         "/api/v1/district/targets/progress", "/api/v1/district/targets/proposals"):
                body = c.get(path).text
                assert c.get(path).status_code == 200
                assert not any(s in body for s in ("tintoria", "lanificio", "logistica", "depuratore"))


def test_a_target_is_proposed_by_one_party_and_agreed_by_the_other(api: ApiServer) -> None:
    assert api.authority is not None
    path = "/api/v1/district/targets/co2_electricity_t"
    with api.client(api.authority) as c:
        r = c.put(path, json=_CO2)
        assert r.status_code == 202, r.text
        proposal = r.json()
        assert (proposal["state"], proposal["proposed_by"], proposal["proposed_by_role"]) == (
            "pending", "municipio", "authority")
        assert (proposal["awaiting_role"], proposal["unit"]) == ("operator", "t CO2")
        agree = f"/api/v1/district/targets/proposals/{proposal['id']}/agree"
        # Proposed is not agreed: no target yet, nothing to measure against.
        assert c.get("/api/v1/district/targets").json() == []
        assert c.get("/api/v1/district/targets/progress").json() == []
        r = c.post(agree)  # its own proposal
        assert r.status_code == 403 and "municipio proposed" in r.json()["detail"]
    for refused in (api.client(), api.client(api.manager_a), api.client(token=api.public_token)):
        with refused as c:
            assert c.put(path, json=_CO2).status_code == 403
            assert c.post(agree).status_code == 403
    with api.client(api.operator) as c:
        r = c.post(agree)
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["decided_by"]) == ("agreed", "operator")
        assert c.post(agree).status_code == 409  # decided already
        # The operator proposes a deeper cut; the authority rejects it with a reason.
        change = c.put(path, json={**_CO2, "target_value": 200.0}).json()
        r = c.put(path, json={**_CO2, "target_value": 180.0})
        assert r.status_code == 409 and "still open" in r.json()["detail"]
    with api.client(api.authority) as c:
        reject = f"/api/v1/district/targets/proposals/{change['id']}/reject"
        assert c.post(reject, json={"reason": "  "}).status_code == 422
        assert c.post(f"/api/v1/district/targets/proposals/{change['id']}/withdraw",
                      json={"reason": "not ours"}).status_code == 403  # only its party withdraws
        r = c.post(reject, json={"reason": "the 2025 baseline misses the new plant"})
        assert r.status_code == 200 and r.json()["state"] == "rejected"
        assert c.post("/api/v1/district/targets/proposals/co2_electricity_t-1/agree").status_code == 404
    with api.client(api.operator) as c:  # and one it withdraws itself
        again = c.put(path, json={**_CO2, "target_value": 210.0}).json()
        r = c.post(f"/api/v1/district/targets/proposals/{again['id']}/withdraw", json={"reason": "typo"})
        assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    with api.client() as c:
        current = c.get("/api/v1/district/targets").json()
        history = c.get("/api/v1/district/targets/history").json()
        pending = c.get("/api/v1/district/targets/proposals").json()
        every = c.get("/api/v1/district/targets/proposals", params={"state": "all"}).json()
    assert [(t["metric"], t["target_value"], t["proposed_by"], t["agreed_by"]) for t in current] == [
        ("co2_electricity_t", 240.0, "municipio", "operator")]
    assert [(h["step"], h["by"], h.get("reason")) for h in history] == [
        ("withdrawn", "operator", "typo"), ("proposed", "operator", ""),
        ("rejected", "municipio", "the 2025 baseline misses the new plant"), ("proposed", "operator", ""),
        ("agreed", "operator", ""), ("proposed", "municipio", "")]
    assert all(a["at_ms"] > b["at_ms"] for a, b in itertools.pairwise(history))
    assert history[-1]["target"]["target_value"] == 240.0 and history[0]["target"] is None
    assert pending == []
    assert [(p["target"]["target_value"], p["state"]) for p in every] == [
        (210.0, "withdrawn"), (200.0, "rejected"), (240.0, "agreed")]


def test_bad_targets_are_refused_with_a_reason(api: ApiServer) -> None:
    with api.client(api.operator) as c:
        r = c.put("/api/v1/district/targets/renewable_share",
                  json={"baseline_year": 2025, "baseline_value": 20, "target_year": 2030, "target_value": 50})
        assert r.status_code == 422 and "share between 0 and 1" in r.text
        r = c.put("/api/v1/district/targets/co2_electricity_t", json={**_CO2, "target_year": 2020})
        assert r.status_code == 422 and "target_year must be after baseline_year" in r.text
        assert c.put("/api/v1/district/targets/nonsense", json=_CO2).status_code == 422


def test_the_inventory_shows_the_public_no_cell_of_one_firm(api: ApiServer) -> None:
    # The seeded day: four firms import 480 kWh each (5 kWh a quarter hour), only Rossi has a PV
    # meter (192 kWh, none fed in): the grid cell shows, the PV cell and the totals do not.
    year = 2026
    with api.client() as c:
        public = c.get("/api/v1/district/inventory", params={"year": year}).json()
        csv_text = c.get("/api/v1/district/inventory.csv", params={"year": year}).text
    cells = {r["carrier"]: r for r in public["rows"]}
    assert cells["grid_electricity"]["energy_mwh"] == pytest.approx(4 * 0.48)
    assert cells["grid_electricity"]["co2_t"] == pytest.approx(4 * 0.48 * 0.26)
    assert cells["local_pv"]["energy_mwh"] is None and cells["local_pv"]["firms"] == 1
    assert public["total_energy_mwh"] is None
    assert csv_text.splitlines()[0].startswith("year,sector,energy_carrier,final_energy_mwh")
    assert "Electricity (grid),1.92," in csv_text
    with api.client(api.operator) as c:
        full = c.get("/api/v1/district/inventory", params={"year": year}).json()
    assert full["total_energy_mwh"] == pytest.approx(1.92 + 0.192)
