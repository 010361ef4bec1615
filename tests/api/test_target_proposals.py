"""Targets agreed between the authority and the operator on the embedded SQLite store: a target set
before agreements existed stays in force until an agreed change replaces it, and two answers to
one proposal at once give one decision (real API, real SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from nzd.store.base import Event, EventKind
from nzd.store.sqlite import SqliteStore
from tests.api.conftest import ApiServer
from tests.harness import InfluxServer, MosquittoServer
from tests.security.support import running_api

WATER = "/api/v1/district/targets/water_intake_m3"
_LEGACY_MS = 1_767_225_600_000  # 2026-01-01T00:00Z


async def _older_store(path: Path) -> None:
    """A target event as nzd wrote it before targets needed both parties, and a broken one."""
    store = SqliteStore(path=path)
    await store.open()
    try:
        await store.write_events([Event(EventKind.TARGET, "prato-est", "*", _LEGACY_MS, "water_intake_m3", {
            "target": {"baseline_year": 2025, "baseline_value": 1000.0, "target_year": 2030,
                       "target_value": 800.0, "path": "linear", "note": ""},
            "set_by": "municipio", "set_by_role": "authority"}),
            # one nobody can read (a hand-edited store): skipped, the routes still answer
            Event(EventKind.TARGET, "prato-est", "*", _LEGACY_MS + 1, "co2_electricity_t",
                  {"step": "agreed"})])
    finally:
        await store.close()


@pytest.fixture(scope="module")
def api(influxdb: InfluxServer, mosquitto: MosquittoServer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("targets-sqlite")
    asyncio.run(_older_store(folder / "nzd.sqlite"))
    with running_api(influx=influxdb, mosquitto=mosquitto, folder=folder, influx_url=None,
                     sqlite_path=folder / "nzd.sqlite") as server:
        yield server


def _expected_2027(c: httpx.Client) -> float:
    (p,) = c.get("/api/v1/district/targets/progress", params={"year": 2027}).json()
    value: float = p["expected"]
    return value


def test_a_target_set_before_agreements_stays_until_an_agreed_change(api: ApiServer) -> None:
    assert api.authority is not None
    with api.client() as c:
        (legacy,) = c.get("/api/v1/district/targets").json()
        (step,) = c.get("/api/v1/district/targets/history").json()
        # 1000 m3 in 2025 to 800 m3 in 2030: 920 m3 expected in 2027.
        assert _expected_2027(c) == pytest.approx(920.0)
    assert (legacy["target_value"], legacy["proposed_by"], legacy["agreed_by"]) == (800.0, "municipio", None)
    assert legacy["agreed_at_ms"] == _LEGACY_MS
    assert (step["step"], step["by"], step["at_ms"]) == ("set", "municipio", _LEGACY_MS)
    with api.client(api.operator) as c:
        r = c.put(WATER, json={"baseline_year": 2025, "baseline_value": 1000.0, "target_year": 2030,
                               "target_value": 500.0, "note": "reuse plant from 2027"})
        assert r.status_code == 202, r.text
        assert _expected_2027(c) == pytest.approx(920.0)  # proposed only
    with api.client(api.authority) as c:
        assert c.post(f"/api/v1/district/targets/proposals/{r.json()['id']}/agree").status_code == 200
    with api.client() as c:
        assert _expected_2027(c) == pytest.approx(800.0)  # 1000 - 500 * 2 / 5
        (agreed,) = c.get("/api/v1/district/targets").json()
    assert (agreed["proposed_by"], agreed["agreed_by"], agreed["note"]) == (
        "operator", "municipio", "reuse plant from 2027")


def test_two_answers_at_once_give_one_decision(api: ApiServer) -> None:
    assert api.authority is not None
    with api.client(api.operator) as c:
        proposal = c.put(WATER, json={"baseline_year": 2025, "baseline_value": 1000.0, "target_year": 2030,
                                      "target_value": 400.0}).json()
    base = f"/api/v1/district/targets/proposals/{proposal['id']}"

    def answer(kind: str) -> int:
        with api.client(api.authority) as c:
            body = {"reason": "too deep"} if kind == "reject" else None
            return c.post(f"{base}/{kind}", json=body).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(answer, ["agree", "reject", "agree", "reject"]))
    assert sorted(codes) == [200, 409, 409, 409]
    with api.client() as c:
        (p,) = [q for q in c.get("/api/v1/district/targets/proposals", params={"state": "all"}).json()
                if q["id"] == proposal["id"]]
        decisions = [h for h in c.get("/api/v1/district/targets/history").json()
                     if h["proposal"] == proposal["id"] and h["step"] != "proposed"]
        (target,) = c.get("/api/v1/district/targets").json()
    assert len(decisions) == 1 and decisions[0]["step"] == p["state"]
    assert target["target_value"] == (400.0 if p["state"] == "agreed" else 500.0)
