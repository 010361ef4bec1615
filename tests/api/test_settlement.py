"""Statements over the real store: hand-computed figures, scope, CSV and PDF."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from pathlib import Path

import pytest

from tests.api.conftest import ApiServer
from tests.api.settlement_data import (
    EXPECTED,
    FUND_EUR,
    INCENTIVE_EUR,
    SAVINGS,
    SOCIAL_EUR,
    settlement_month,
    window_start_ms,
    write_baseline_day,
    write_settlement_month,
)


@pytest.fixture(scope="module")
def month(api_server: ApiServer) -> str:
    return write_settlement_month(api_server)


def test_a_firm_sees_its_statement_and_the_district_totals_to_the_cent(api_server: ApiServer,
                                                                       month: str) -> None:
    with api_server.client(api_server.manager_a) as c:
        r = c.get("/api/v1/sites/tintoria-rossi/statement", params={"month": month})
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["configuration"] == "default" and st["month"] == month
    assert st["total"]["incentive_eur"] == EXPECTED["tintoria-rossi"]
    assert st["total"]["consumer_eur"] == pytest.approx(0.4 * 8.844 * 2 / 3, abs=1e-4)
    assert st["total"]["producer_eur"] == 0.0
    assert st["total"]["drawn_kwh"] == pytest.approx(80.0, abs=1e-3)
    d = st["district_total"]
    assert d["shared_kwh"] == pytest.approx(120.0, abs=1e-3)
    assert d["premium_eur"] == pytest.approx(13.68, abs=1e-4)
    assert d["valorisation_eur"] == pytest.approx(1.32, abs=1e-4)
    assert d["incentive_eur"] == INCENTIVE_EUR
    assert d["fund_eur"] == FUND_EUR and d["social_fund_eur"] == SOCIAL_EUR
    # One row per day of the month; the 10th holds it all.
    assert len(st["days"]) >= 28 and sum(day["incentive_eur"] for day in st["days"]) == pytest.approx(2.36)
    # Every firm's statement plus the fund and social purposes make the incentive, to the cent.
    with api_server.client(api_server.operator) as c:
        sites = ("tintoria-rossi", "lanificio-bianchi", "logistica-prato", "depuratore")
        parts = {s: c.get(f"/api/v1/sites/{s}/statement", params={"month": month}).json()["total"][
            "incentive_eur"] for s in sites}
    assert parts == {**EXPECTED, "depuratore": 0.0}
    assert round(sum(parts.values()) + FUND_EUR + SOCIAL_EUR, 2) == INCENTIVE_EUR


def test_another_firm_and_the_public_cannot_read_a_firms_statement(api_server: ApiServer, month: str) -> None:
    for path in ("statement", "statement.csv", "statement.pdf"):
        with api_server.client(api_server.manager_a) as c:
            r = c.get(f"/api/v1/sites/logistica-prato/{path}", params={"month": month})
            assert r.status_code == 403 and "may not see site" in r.json()["detail"]
        with api_server.client() as anonymous:
            r = anonymous.get(f"/api/v1/sites/tintoria-rossi/{path}", params={"month": month})
            assert r.status_code == 403
        with api_server.client(token=api_server.public_token) as public:
            r = public.get(f"/api/v1/sites/tintoria-rossi/{path}", params={"month": month})
            assert r.status_code == 403
    # The district's totals pass the public rule: one firm alone feeds in that month, so shared
    # energy and the incentive would show its export: the public sees none of them, nor does
    # another firm (the rule on the firms it may not see); the operator does.
    with api_server.client() as anonymous:
        r = anonymous.get("/api/v1/district/settlement", params={"month": month})
    assert r.status_code == 200 and r.json()["incentive_eur"] is None and r.json()["shared_kwh"] is None
    with api_server.client(api_server.manager_a) as c:
        r = c.get("/api/v1/district/settlement", params={"month": month})
    assert r.status_code == 200 and r.json()["incentive_eur"] is None and r.json()["shared_kwh"] is None
    with api_server.client(api_server.operator) as c:
        r = c.get("/api/v1/district/settlement", params={"month": month})
    assert r.json()["incentive_eur"] == INCENTIVE_EUR
    with api_server.client(api_server.manager_a) as c:
        r = c.get("/api/v1/sites/tintoria-rossi/statement", params={"month": "2026-13"})
        assert r.status_code == 422


def test_csv_and_pdf_carry_the_same_totals_as_the_json(api_server: ApiServer, month: str,
                                                       tmp_path: Path) -> None:
    with api_server.client(api_server.manager_a) as c:
        rows = list(csv.DictReader(io.StringIO(c.get("/api/v1/sites/tintoria-rossi/statement.csv",
                                                     params={"month": month}).text)))
        pdf = c.get("/api/v1/sites/tintoria-rossi/statement.pdf", params={"month": month})
    assert rows[-1]["day"] == "month" and float(rows[-1]["incentive_eur"]) == EXPECTED["tintoria-rossi"]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf.content)
    text = pdf_text(path)
    assert "Incentive received" in text and f"{EXPECTED['tintoria-rossi']:.2f} EUR" in text
    assert f"{INCENTIVE_EUR:.2f} EUR" in text and "Where the money came from" in text
    assert rendered_page(path, tmp_path).stat().st_size > 5_000


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=30).stdout


def rendered_page(path: Path, out_dir: Path) -> Path:
    """pdftoppm renders the first page: the file is a PDF a viewer can open."""
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(out_dir / "page")],
                   check=True, capture_output=True, timeout=60)
    pages = sorted(out_dir.glob("page*.png"))
    assert pages, "pdftoppm rendered no page"
    return pages[0]


def test_hourly_zonal_prices_pushed_by_the_operator_set_the_premium(api_server: ApiServer) -> None:
    month = write_settlement_month(api_server, days_back=310)
    start = window_start_ms(month)
    # 10:00-15:00: the store's 15-minute buckets may carry the last quarter into the 14:00 hour.
    hours = [{"time": _iso(start + h * 3_600_000), "eur_per_mwh": 250.0} for h in range(5)]
    with api_server.client(api_server.manager_a) as c:
        assert c.put("/api/v1/district/prices", json={"prices": hours}).status_code == 403
    with api_server.client(api_server.operator) as c:
        off_hour = {"prices": [{"time": _iso(start + 60_000), "eur_per_mwh": 1}]}
        bad = c.put("/api/v1/district/prices", json=off_hour)
        assert bad.status_code == 422 and "start of a clock hour" in bad.json()["detail"]
        # A first push, then the same hours again: the newest wins.
        c.put("/api/v1/district/prices", json={"prices": [{**h, "eur_per_mwh": 20.0} for h in hours]})
        r = c.put("/api/v1/district/prices", json={"prices": hours})
        assert r.status_code == 200 and r.json() == {"stored": 5}
        st = c.get("/api/v1/sites/logistica-prato/statement", params={"month": month}).json()
    with api_server.client() as anonymous:
        rows = anonymous.get("/api/v1/district/prices",
                             params={"from": _iso(start), "to": _iso(start + 6 * 3_600_000)})
    assert [r["eur_per_mwh"] for r in rows.json()] == [250.0] * 5 + [None]
    # Pz 250: 70 + max(0, 180 - 250) = 70, + 4 in the centre: 74 EUR/MWh on 120 kWh shared.
    assert st["district_total"]["premium_eur"] == pytest.approx(120 * 0.074, abs=1e-4)
    assert st["district_total"]["incentive_eur"] == round(120 * 0.074 + 1.32, 2)


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def test_a_statement_reports_the_firms_savings_against_both_baselines(api_server: ApiServer,
                                                                      tmp_path: Path) -> None:
    month = settlement_month(days_back=370)
    write_baseline_day(api_server, month)
    with api_server.client(api_server.manager_a) as c:
        st = c.get("/api/v1/sites/tintoria-rossi/statement", params={"month": month}).json()
    assert st["savings"] == SAVINGS
    d = st["district_savings"]
    assert d["savings_vs_fair_baseline_eur"] == pytest.approx(2.80) and d["savings_vs_do_nothing_eur"] == 5.60
    with api_server.client(api_server.manager_a) as c:
        pdf = c.get("/api/v1/sites/tintoria-rossi/statement.pdf", params={"month": month})
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf.content)
    text = pdf_text(path)
    assert "Saved against the fair baseline" in text and "2.73 EUR" in text and "5.48 EUR" in text
