"""The public rule on scenario results, through the real API and store: results stored as the worker
stores them, with hand-chosen firms' parts, read by the operator, the public, the authority and a
site manager. Each expected figure is worked out by hand in the comments."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from nzd.clock import district_clock
from nzd.store import Event, EventKind
from tests.api.conftest import DISTRICT, SITE_A, SITE_B, SITES, ApiServer, write
from tests.api.test_settlement import pdf_text, rendered_page

# SITES = tintoria-rossi (SITE_A), lanificio-bianchi, logistica-prato (SITE_B), depuratore
IMPORT = [900.0, 40.0, 30.0, 30.0]  # 1000 kWh; SITE_A 90 % of it: above 85 %
EXPORT = [500.0, 0.0, 500.0, 0.0]  # 1000 kWh from two firms
PV = [300.0, 300.0, 400.0, 0.0]  # 1000 kWh, three firms, the largest 40 %
CONSUMPTION = [1000.0, 1000.0, 1000.0, 1000.0]
# PV per site and month (rows: sites): January 100 + 100 + 100 (shown); February SITE_A's 200
# alone, March 200 + 300 of two firms (each withheld); February and March together 200, 200, 300
# (43 % at most): the year minus January gives no firm away.
MONTHLY_PV = [[100.0, 200.0, 0.0], [100.0, 0.0, 200.0], [100.0, 0.0, 300.0], [0.0, 0.0, 0.0]]
# The same year's PV otherwise: January 100 + 100 + 100, February SITE_A's 150 alone (withheld),
# March 50 + 200 + 300. The year minus January and March would give February back, so one more
# month is withheld: the smallest that does it, January (with February: 250, 100, 100: 56 %).
LONE_MONTH_PV = [[100.0, 150.0, 50.0], [100.0, 0.0, 200.0], [100.0, 0.0, 300.0], [0.0, 0.0, 0.0]]
_MONTH_KEYS = ("consumption_kwh", "import_kwh", "export_kwh", "pv_kwh")


def _year(parts: dict[str, list[float]]) -> dict[str, float]:
    t = {k: sum(v) for k, v in parts.items()}
    return {
        "consumption_kwh": t["consumption_kwh"], "import_kwh": t["import_kwh"], "export_kwh": t["export_kwh"],
        "pv_kwh": t["pv_kwh"], "shared_kwh": 250.0, "incentive_eur": 30.0,
        "statute_incentive_eur": t["statute_incentive_eur"], "energy_cost_eur": t["energy_cost_eur"],
        "co2_t": t["co2_t"], "self_sufficiency": 1.0 - t["import_kwh"] / t["consumption_kwh"],
    }


def _result(*, sites: list[str] = SITES, pv: list[float] = PV, monthly_pv: list[list[float]] | None = None,
            imports: list[float] = IMPORT, exports: list[float] = EXPORT,
            monthly_import: list[list[float]] | None = None, day_import: list[list[float]] | None = None,
            contributions: bool = True) -> dict[str, Any]:
    """A stored result with every firm's parts; the district figures are their sums."""
    year_parts = {
        "consumption_kwh": CONSUMPTION, "import_kwh": imports, "export_kwh": exports, "pv_kwh": pv,
        "new_pv_kwh": pv, "energy_cost_eur": [0.2 * v for v in imports], "statute_incentive_eur": [7.0] * 4,
        "co2_t": [0.25 * v / 1000 for v in imports],
        "balance_rest_kwh": [c - i + e - p
                             for c, i, e, p in zip(CONSUMPTION, imports, exports, pv, strict=True)],
    }
    if monthly_pv is None:
        monthly_pv = MONTHLY_PV if pv == PV else [[v / 3] * 3 for v in pv]
    n = len(monthly_pv[0])
    monthly_parts = {  # the other quantities spread evenly over the months
        "consumption_kwh": [[v / n] * n for v in CONSUMPTION],
        "import_kwh": monthly_import or [[v / n] * n for v in imports],
        "export_kwh": [[v / n] * n for v in exports], "pv_kwh": monthly_pv,
    }
    monthly_parts["balance_rest_kwh"] = [
        [c - i + e - v for c, i, e, v in zip(*rows, strict=True)]
        for rows in zip(*(monthly_parts[k] for k in _MONTH_KEYS), strict=True)
    ]
    monthly = {k: [sum(col) for col in zip(*rows, strict=True)] for k, rows in monthly_parts.items()}
    monthly["shared_kwh"] = [10.0] * n
    # The typical day: only imports, when given (the balance's rest is then minus the imports).
    steps = len(day_import[0]) if day_import else 0
    zero_day = [[0.0] * steps for _ in SITES]
    day_parts = {"load_kw": zero_day, "pv_kw": zero_day, "import_kw": day_import or zero_day,
                 "export_kw": zero_day, "balance_rest_kw": [[-v for v in r] for r in day_import or zero_day]}
    capex = [600_000.0, 200_000.0, 200_000.0, 0.0]  # 1 MEUR: SITE_A 60 %
    money = {"capex_eur": capex, "pv_capex_eur": capex, "battery_capex_eur": [0.0] * 4,
             "pv_om_eur": [c / 100 for c in capex], "om_eur": [c / 100 for c in capex],
             "benefit_eur": [60_000.0, 20_000.0, 20_000.0, 0.0]}
    sizing = {"cost_eur": [100.0, 100.0, 100.0, 100.0], "import_kwh": imports, "export_kwh": exports,
              "co2_t": year_parts["co2_t"], "pv_kwp": [900.0, 50.0, 50.0, 0.0], "battery_kwh": [0.0] * 4}
    result: dict[str, Any] = {
        "name": "hand", "description": "", "district": DISTRICT, "sites": sites, "step_minutes": 60,
        "surfaces": [{"id": f"{s}-roof", "site": s, "kwp": k, "max_kwp": 1000.0, "capex_eur": c}
                     for s, k, c in zip(SITES, [600.0, 200.0, 200.0, 0.0], capex, strict=True)],
        "batteries": [],
        "firms": [{"site": s, "capex_eur": c, "gain_eur_per_year": 1.0}
                  for s, c in zip(SITES, capex, strict=True)],
        "year": _year(year_parts),
        "baseline_year": _year(year_parts),
        "co2_avoided_t_per_year": 0.0,
        "lifetime": {"years": 20, "co2_avoided_t": 0.0, "shared_kwh": 5000.0, "incentive_eur": 600.0},
        "capex_eur": sum(capex),
        "annual_cost_eur": {"representative_days": 370.0, "full_year": 370.0, "relative_difference": 0.0},
        "solve_s": {"representative_days": 0.1, "full_year_dispatch": 0.2},
        "finance": {"yearly_benefit_eur": 100_000.0, "npv_eur": 250_000.0, "irr": 0.08,
                    "simple_payback_years": 10.0, "discounted_payback_years": 14.0,
                    "cash_flows_eur": [-1_000_000.0] + [100_000.0] * 20, "lcoe_eur_per_kwh": 0.09},
        "co2_curve": [{"reduction_pct": 0.0, "co2_t": 0.25, "annual_cost_eur": 370.0, "feasible": True,
                       "pv_kwp": 1000.0, "battery_kwh": 0.0, "co2_avoided_t": 0.0}],
        "monthly": {k: v for k, v in monthly.items() if k != "balance_rest_kwh"},
        "typical_day": {k: [sum(col) for col in zip(*rows, strict=True)] for k, rows in day_parts.items()},
        "representative_days": {"days": [0], "weights": [365]},
    }
    if contributions:
        result["contributions"] = {
            "year": year_parts, "baseline_year": year_parts,
            "monthly": monthly_parts,
            "typical_day": day_parts,
            "annual_cost": {"representative_days": sizing, "full_year": sizing},
            "money": money, "co2_curve": [sizing],
        }
    return result


def _store(server: ApiServer, result: dict[str, Any]) -> str:
    """The job as the worker leaves it: a ``done`` SCENARIO event with its result."""
    job = uuid.uuid4().hex[:12]
    doc = {"state": "done", "scenario": {"name": result["name"]}, "result": result}
    write(server, events=[Event(EventKind.SCENARIO, DISTRICT, "*", district_clock().now_ms(), job, doc)])
    return job


def _seen(client: httpx.Client, job: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/scenarios/{job}")
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["result"]
    return result


@pytest.fixture(scope="module")
def job(api_server: ApiServer) -> str:
    return _store(api_server, _result())


def test_the_operator_sees_every_figure(api_server: ApiServer, job: str) -> None:
    with api_server.client(api_server.operator) as op:
        seen = _seen(op, job)
    assert seen["year"]["import_kwh"] == 1000.0 and seen["year"]["export_kwh"] == 1000.0
    assert [f["site"] for f in seen["firms"]] == SITES
    assert seen["monthly"]["pv_kwh"] == [300.0, 200.0, 500.0]


@pytest.mark.parametrize("who", ["public", "authority"])
def test_the_public_rule_per_figure_and_per_row(api_server: ApiServer, job: str, who: str) -> None:
    user = api_server.authority if who == "authority" else None
    with api_server.client(user) as client:
        seen = _seen(client, job)
    y = seen["year"]
    assert y["import_kwh"] is None  # SITE_A: 900 of 1000 = 90 % > 85 %
    assert y["export_kwh"] is None  # two firms
    assert y["pv_kwh"] == 1000.0  # three firms, the largest 400 of 1000 = 40 %
    # Derived figures: shared energy and the incentive are built from import and export; CO2 and
    # cost from import; consumption and self-sufficiency from the whole balance.
    assert y["shared_kwh"] is None and y["incentive_eur"] is None and y["co2_t"] is None
    assert y["energy_cost_eur"] is None and y["consumption_kwh"] is None and y["self_sufficiency"] is None
    # Per row (MONTHLY_PV): January's 300 kWh from three firms is shown, February (one firm) and
    # March (two) are not; together they are three firms, so the year's 1000 is shown.
    assert seen["monthly"]["pv_kwh"] == [300.0, None, None]
    # Capex: 600k, 200k, 200k of 1 MEUR (60 %): shown; the lifetime figures are built from capex
    # and the benefit (60k, 20k, 20k of 100k: 60 %): shown.
    assert seen["capex_eur"] == 1_000_000.0 and seen["finance"]["npv_eur"] == 250_000.0
    assert seen["finance"]["cash_flows_eur"][0] == -1_000_000.0
    # The cost-CO2 curve: SITE_A builds 900 of 1000 kWp: withheld; the cost is from import: withheld.
    point = seen["co2_curve"][0]
    assert point["pv_kwp"] is None and point["annual_cost_eur"] is None and point["reduction_pct"] == 0.0
    assert seen["pv_kwp_total"] is None  # 900 of 1000 kWp
    # No firm's row, and none of their parts.
    for key in ("firms", "surfaces", "batteries", "sites", "contributions"):
        assert key not in seen


def test_two_firms_are_withheld_three_balanced_shown(api_server: ApiServer) -> None:
    two = _store(api_server, _result(pv=[500.0, 500.0, 0.0, 0.0]))
    three = _store(api_server, _result(pv=[350.0, 0.0, 350.0, 300.0]))
    with api_server.client() as public:
        assert _seen(public, two)["year"]["pv_kwh"] is None  # 500 + 500: two firms
        assert _seen(public, three)["year"]["pv_kwh"] == 1000.0  # 35 %, 35 %, 30 %
    with api_server.client(api_server.operator) as op:
        assert _seen(op, two)["year"]["pv_kwh"] == 1000.0


def test_a_site_manager_sees_its_firm_and_nothing_that_reveals_another(
    api_server: ApiServer, job: str
) -> None:
    with api_server.client(api_server.manager_a) as manager:
        seen = _seen(manager, job)
    # Its own rows only.
    assert [f["site"] for f in seen["firms"]] == [SITE_A]
    assert [s["site"] for s in seen["surfaces"]] == [SITE_A]
    assert SITE_B not in str(seen["firms"]) + str(seen["surfaces"])
    y = seen["year"]
    # The rule runs on the firms SITE_A's manager may not see, since it can subtract its own part:
    # import: the others 40, 30, 30 (40 % of 100): the total hides them, shown;
    assert y["import_kwh"] == 1000.0
    # export: 1000 - SITE_A's 500 = SITE_B's 500: withheld;
    assert y["export_kwh"] is None
    # PV: 1000 - its 300 = 300 + 400 of two firms: withheld, though the public sees it.
    assert y["pv_kwh"] is None
    # capex: 1 MEUR - its 600k = 200k + 200k, two firms: withheld (the public sees it).
    assert seen["capex_eur"] is None


def test_a_month_the_year_would_give_back_is_covered_by_another(api_server: ApiServer) -> None:
    job = _store(api_server, _result(monthly_pv=LONE_MONTH_PV))
    with api_server.client() as public:
        seen = _seen(public, job)
    assert seen["monthly"]["pv_kwh"] == [None, None, 550.0]
    assert seen["year"]["pv_kwh"] == 1000.0  # 1000 - 550 = January and February together
    with api_server.client(api_server.operator) as op:
        assert _seen(op, job)["monthly"]["pv_kwh"] == [300.0, 150.0, 550.0]


def test_when_no_row_covers_a_withheld_one_the_quantity_is_withheld_everywhere(api_server: ApiServer) -> None:
    # Import: January 100, 40, 30, 30 (SITE_A 50 %) would pass; February is SITE_A's 800 alone; the
    # year (900, 40, 30, 30) fails too, so no other month can cover February: import is withheld
    # in every month, and in the year.
    job = _store(api_server, _result(monthly_import=[[100.0, 800.0], [40.0, 0.0], [30.0, 0.0], [30.0, 0.0]],
                                     monthly_pv=[[150.0, 150.0], [150.0, 150.0], [200.0, 200.0], [0.0, 0.0]]))
    with api_server.client() as public:
        seen = _seen(public, job)
    assert seen["monthly"]["import_kwh"] == [None, None] and seen["year"]["import_kwh"] is None
    assert seen["monthly"]["pv_kwh"] == [500.0, 500.0]  # 30 %, 30 %, 40 % each month
    with api_server.client(api_server.operator) as op:
        assert _seen(op, job)["monthly"]["import_kwh"] == [200.0, 800.0]


def test_a_step_of_the_typical_day_is_covered_by_another(api_server: ApiServer) -> None:
    balanced = [300.0, 300.0, 400.0, 0.0]
    # The typical day's import: 100 + 100 + 100, then SITE_A's 50 alone (withheld), then 150 + 200
    # + 300. The year's import (shown: 300, 300, 400) over the days minus the steps shown must not
    # give the 50 back: the first step is withheld too (with the 50: 150, 100, 100, 43 %), and the
    # load of both steps, which is built from their import.
    day_import = [[100.0, 50.0, 150.0], [100.0, 0.0, 200.0], [100.0, 0.0, 300.0], [0.0, 0.0, 0.0]]
    job = _store(api_server, _result(imports=balanced, exports=balanced, day_import=day_import))
    with api_server.client() as public:
        seen = _seen(public, job)
    assert seen["typical_day"]["import_kw"] == [None, None, 650.0]
    assert seen["typical_day"]["load_kw"] == [None, None, 0.0]
    assert seen["year"]["import_kwh"] == 1000.0 and seen["year"]["co2_t"] == pytest.approx(0.25)
    assert seen["monthly"]["import_kwh"] == pytest.approx([1000.0 / 3] * 3)
    with api_server.client(api_server.operator) as op:
        assert _seen(op, job)["typical_day"]["import_kw"] == [300.0, 50.0, 650.0]


def test_too_few_firms_in_a_scenario_is_refused_to_the_public(api_server: ApiServer) -> None:
    job = _store(api_server, _result(sites=[SITE_A, SITE_B]))
    for user in (None, api_server.authority):
        with api_server.client(user) as client:
            r = client.get(f"/api/v1/scenarios/{job}")
        assert r.status_code == 403 and "2 firm(s)" in r.text


def test_a_result_without_parts_shows_nothing_to_the_public(api_server: ApiServer) -> None:
    job = _store(api_server, _result(contributions=False))
    with api_server.client() as public:
        seen = _seen(public, job)
    assert seen["year"]["pv_kwh"] is None and seen["capex_eur"] is None
    assert seen["monthly"]["pv_kwh"] == [None, None, None]
    with api_server.client(api_server.operator) as op:
        assert _seen(op, job)["year"]["pv_kwh"] == 1000.0


def test_the_pdf_shows_what_the_viewer_may_see(api_server: ApiServer, job: str, tmp_path: Path) -> None:
    def pdf(user: Any) -> str:
        with api_server.client(user) as client:
            r = client.get(f"/api/v1/scenarios/{job}/report.pdf")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
        path = tmp_path / f"{uuid.uuid4().hex}.pdf"
        path.write_bytes(r.content)
        assert rendered_page(path, tmp_path).stat().st_size > 2_000
        return pdf_text(path)

    public = pdf(None)
    # The year: PV 1,000 kWh is shown, import (SITE_A 90 %) is not; no firm is named.
    assert "Solar power used or fed in" in public and "1,000 kWh" in public
    assert "Drawn from the grid" in public and "not published" in public
    assert "Investment" in public and "1,000,000 EUR" in public
    assert not any(s in public for s in SITES)
    manager = pdf(api_server.manager_a)
    assert SITE_A in manager and SITE_B not in manager
    operator = pdf(api_server.operator)
    assert all(s in operator for s in SITES)


def test_no_pdf_before_the_result(api_server: ApiServer) -> None:
    job = uuid.uuid4().hex[:12]
    doc = {"state": "queued", "by": "operator", "scenario": {"name": "later"}}
    write(api_server, events=[Event(EventKind.SCENARIO, DISTRICT, "*", district_clock().now_ms(), job, doc)])
    with api_server.client(api_server.operator) as op:
        r = op.get(f"/api/v1/scenarios/{job}/report.pdf")
    assert r.status_code == 409 and "queued" in r.text
